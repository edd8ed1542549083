using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class NodeConcurrencyTests
{
    [Fact]
    public async Task ANodeKeepsAtMostItsConcurrencyOfAttemptsInFlight_AcrossEndpoints()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 3);
        // Four merchants' new endpoints: each may have one attempt under way (its merchant's share of
        // a node of three) until one of them ends, four in all, more than the node's three.
        var merchants = new List<HttpClient>();
        for (var m = 0; m < 4; m++)
        {
            var merchant = await herald.NewMerchantAsync("Merchant " + m);
            merchants.Add(merchant);
            await merchant.AddEndpointAsync(receiver.Url, "thin");
        }
        receiver.Hold();
        for (var i = 0; i < 2; i++)
        {
            foreach (var merchant in merchants)
            {
                await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
            }
        }
        // Three are being answered, the five others wait their turn on this node.
        await HeraldHost.EventuallyAsync(() => Task.FromResult(receiver.MaxInFlight == 3));
        await Task.Delay(500);
        Assert.Equal(3, receiver.MaxInFlight);
        receiver.Release();
        await receiver.WaitForAsync(8);
        Assert.Equal(3, receiver.MaxInFlight);
        merchants.ForEach(m => m.Dispose());
    }
}
