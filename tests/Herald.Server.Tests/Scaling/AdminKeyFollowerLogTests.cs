using Herald.Server.Hosting;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Scaling;

/// <summary>What a node on PostgreSQL logs of the shared admin key while the database is away.</summary>
public sealed class AdminKeyFollowerLogTests
{
    [Fact]
    public async Task TheSharedKeyUnreadWhileTheDatabaseIsAway_IsLoggedAsOneLineAMinute_NotAStackAtEveryTry()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var logs = new CapturedLogs("Herald.Server.Hosting.AdminKeyFollower");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, configure: b => b.Logging.AddProvider(logs));

        await db.SetReachableAsync(false);
        // Two tries of the follower (one every 10 s) while the database is away.
        await Task.Delay(AdminKeyFollower.Every * 2 + TimeSpan.FromSeconds(2));

        var said = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Warning, said.Level);
        Assert.Equal(5101, said.EventId);
        Assert.Null(said.Exception);
        Assert.StartsWith("The shared admin key could not be read, the database cannot be used: ", said.Message, StringComparison.Ordinal);
        Assert.EndsWith("(said once a minute: 0 more so since)", said.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', said.Message);
        await db.SetReachableAsync(true);
    }
}
