using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Delivery;

/// <summary>How soon delivery takes up work again once the database is back.</summary>
public sealed class OutageBackOffTests
{
    [Fact]
    public async Task AChangeRecordedOnceTheDatabaseIsBack_GoesOutAtOnce_NotWhenTheOutagesBackOffRunsOut()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var logs = new CapturedLogs("Herald.Delivery");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, configure: b => b.Logging.AddProvider(logs));
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "thin");

        // The database goes; the loop's next look fails, and its back-off doubles on each failure
        // until it waits 8 s (1, 2, 4, then 8: about 7 s of outage).
        await db.SetReachableAsync(false);
        herald.Clock.Advance(TimeSpan.FromSeconds(2));
        await HeraldHost.EventuallyAsync(
            () => Task.FromResult(logs.Entries.Any(e => e.EventId == 2016 && e.Message.EndsWith("retrying after 00:00:08", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30));

        await db.SetReachableAsync(true);
        var recorded = DateTime.UtcNow;
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" }, 201);
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));

        // Well before the 8 s the loop was waiting out when the change came.
        Assert.InRange(DateTime.UtcNow - recorded, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }
}
