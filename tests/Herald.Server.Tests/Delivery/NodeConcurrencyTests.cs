using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class NodeConcurrencyTests
{
    [Fact]
    public async Task ANodeKeepsAtMostItsConcurrencyOfAttemptsInFlight_AcrossEndpoints()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 3);
        using var first = await herald.NewMerchantAsync("First");
        using var second = await herald.NewMerchantAsync("Second");
        await first.AddEndpointAsync(receiver.Url, "thin");
        await second.AddEndpointAsync(receiver.Url, "thin");
        receiver.Hold();
        for (var i = 0; i < 4; i++)
        {
            await first.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
            await second.PostJsonAsync("/v1/payment_orders", new { amount = 20 + i, currency = "BRL" });
        }
        // Three are being answered, the five others wait their turn on this node.
        await HeraldHost.EventuallyAsync(() => Task.FromResult(receiver.MaxInFlight == 3));
        await Task.Delay(500);
        Assert.Equal(3, receiver.MaxInFlight);
        receiver.Release();
        await receiver.WaitForAsync(8);
        Assert.Equal(3, receiver.MaxInFlight);
    }
}
