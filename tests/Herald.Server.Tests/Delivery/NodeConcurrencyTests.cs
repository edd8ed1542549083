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
        // Each endpoint seen to answer quickly once: its window is two, more than a third of the node.
        await first.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await second.PostJsonAsync("/v1/payment_orders", new { amount = 2, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await first.NotificationsAsync("status=succeeded")).Count == 1 && (await second.NotificationsAsync("status=succeeded")).Count == 1);
        receiver.ResetMaxInFlight();
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
        // What the endpoints' windows sent back to the queue comes back about when a place frees.
        await herald.AdvanceUntilAsync(TimeSpan.Zero, () => Task.FromResult(receiver.Received.Count >= 2 + 8));
        Assert.Equal(3, receiver.MaxInFlight);
    }
}
