using System.Net;
using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Errors;

/// <summary>What the log says of requests refused while the database is away.</summary>
public sealed class DatabaseTroubleLogTests
{
    [Fact]
    public async Task RequestsRefusedWhileTheDatabaseIsAway_AreLoggedAsOneLineAMinute_NotEachAsAnUnhandledError()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var logs = new CapturedLogs("Herald.Server.Errors");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, configure: b => b.Logging.AddProvider(logs));
        using var merchant = await herald.NewMerchantAsync();

        await db.SetReachableAsync(false);
        for (var i = 0; i < 5; i++)
        {
            using var refused = await merchant.PostAsJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        var first = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.Null(first.Exception);
        Assert.StartsWith("POST /v1/payment_orders answered 503: the database cannot take requests (it cannot be reached): ", first.Message, StringComparison.Ordinal);
        Assert.EndsWith("(said once a minute: 0 more answered so since)", first.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', first.Message);

        herald.Clock.Advance(TimeSpan.FromMinutes(1));
        using (var refused = await merchant.GetAsync("/v1/notifications"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        Assert.Equal(2, logs.Entries.Count);
        var second = logs.Entries.Last();
        Assert.StartsWith("GET /v1/notifications answered 503: ", second.Message, StringComparison.Ordinal);
        Assert.EndsWith("(said once a minute: 4 more answered so since)", second.Message, StringComparison.Ordinal);
        await db.SetReachableAsync(true);
    }
}
