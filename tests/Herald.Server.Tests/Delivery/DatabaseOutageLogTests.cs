using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Delivery;

/// <summary>What delivery's log says while the database is away.</summary>
public sealed class DatabaseOutageLogTests
{
    [Fact]
    public async Task AttemptsInFlightWhenTheDatabaseGoes_AreLoggedAsOneLineAMinute_NotEachAsAnErrorWithItsStack()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var logs = new CapturedLogs("Herald.Delivery");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, configure: b => b.Logging.AddProvider(logs));
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "transaction");
        receiver.Hold();
        for (var i = 0; i < 4; i++)
        {
            await merchant.NewTransactionAsync();
        }
        await receiver.WaitForAsync(4);

        // Four attempts are under way when the database goes: none of their outcomes can be recorded.
        await db.SetReachableAsync(false);
        receiver.Release();
        await HeraldHost.EventuallyAsync(() => Task.FromResult(logs.Entries.Any(e => e.EventId == 2015)));
        // The other three answers reach the node together with the first: a moment for their outcomes to fail too.
        await Task.Delay(1000);

        var said = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        // One line for the four attempts, with what the driver said and no stack.
        var attempts = Assert.Single(said, e => e.EventId == 2015);
        Assert.Equal(LogLevel.Warning, attempts.Level);
        Assert.Contains("attempt could not be recorded, the database cannot be used: ", attempts.Message, StringComparison.Ordinal);
        Assert.EndsWith("(said once a minute: 0 more so since)", attempts.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', attempts.Message);
        Assert.All(said, e => Assert.Null(e.Exception));
        Assert.DoesNotContain(said, e => e.Level >= LogLevel.Error);
        await db.SetReachableAsync(true);
    }
}
