using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class OrderedDeliveryTests : HeraldWithReceiver
{
    [Fact]
    public async Task OrderedEndpoint_ReceivesEachEntitysNotificationsInVersionOrder_WhenEveryFirstAttemptFails()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { ordered = true, retry = "exponential" });
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Receiver.Answer = r =>
        {
            lock (seen)
            {
                return seen.Add(r.Headers["webhook-id"]) ? 500 : 200;
            }
        };

        var transactions = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = await merchant.NewTransactionAsync();
            await merchant.MoveAsync("transactions", id, "PROCESSING");
            await merchant.MoveAsync("transactions", id, "COMPLETED");
            transactions.Add(id);
        }
        await Herald.AdvanceUntilAsync(TimeSpan.Zero,
            async () => (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count == 9, TimeSpan.FromSeconds(90));

        string[] order = ["INIT", "PROCESSING", "COMPLETED"];
        foreach (var id in transactions)
        {
            // Every request for this transaction, in arrival order: each version's failure and its retry
            // come before anything of the next version.
            var states = Receiver.Received.Select(r => JsonNode.Parse(r.Body)!.AsObject())
                .Where(b => b.Str("internalId") == id).Select(b => b.Str("status")).ToList();
            Assert.Equal(["INIT", "INIT", "PROCESSING", "PROCESSING", "COMPLETED", "COMPLETED"], states);
            Assert.Equal(order, states.Distinct());
        }
    }

    [Fact]
    public async Task UnorderedEndpoint_LetsALaterVersionOvertakeAFailedOne()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { retry = "exponential" });
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Receiver.Answer = r =>
        {
            lock (seen)
            {
                return seen.Add(r.Headers["webhook-id"]) ? 500 : 200;
            }
        };
        var id = await merchant.NewTransactionAsync();
        await Receiver.WaitForAsync(1);
        await merchant.MoveAsync("transactions", id, "PROCESSING");
        await Receiver.WaitForAsync(2);
        // Without ordering the second version goes out while the first waits for its retry.
        Assert.Equal(["INIT", "PROCESSING"], Receiver.Received.Select(r => JsonNode.Parse(r.Body)!.Str("status")));
    }
}
