using System.Net;
using Herald.Receiver.Idempotency;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>
/// An idempotency store that fails (its database down, a file it cannot open) is the kit's to answer
/// for: a 500 saying so, the handler not run, and the kit's own log entry, never an exception left to
/// the app's pipeline (whose answer in Development is a stack trace Herald would keep).
/// </summary>
public sealed class StoreFailureTests
{
    private static HeraldWebhookOptions Options(IIdempotencyStore store)
    {
        var options = new HeraldWebhookOptions { IdempotencyStore = store };
        options.Secrets.Add(Signed.Secret);
        return options;
    }

    [Fact]
    public async Task StoreFailingToClaim_Answers500SayingTheHandlerDidNotRun_AndTheKitLogsIt()
    {
        var logs = new LogSink();
        await using var app = await ReceiverApp.StartCountingAsync(Options(new FaultyStore(claims: true)), logs);

        using var request = Signed.Request("evt_unclaimed", Signed.Transaction, DateTimeOffset.UtcNow);
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("the idempotency store failed, so the handler did not run; Herald will retry", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, app.Handled);
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Error, 6006), (logged.Level, logged.EventId));
        Assert.Contains("evt_unclaimed", logged.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(logged.Exception);
    }

    [Fact]
    public async Task StoreFailingToGiveBackAFailedHandlersClaim_StillAnswersTheHandlersFailure_AndTheKitLogsBoth()
    {
        var logs = new LogSink();
        await using var app = await ReceiverApp.StartAsync(Options(new FaultyStore(releases: true)),
            (_, _) => throw new InvalidOperationException("database down"), logs);

        using var request = Signed.Request("evt_kept", Signed.Transaction, DateTimeOffset.UtcNow);
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("the handler failed; Herald will retry", await response.Content.ReadAsStringAsync());
        Assert.Equal([6003, 6007], logs.Receiver.Select(e => e.EventId));
        var release = logs.Receiver[1];
        Assert.Equal(LogLevel.Warning, release.Level);
        Assert.Contains("evt_kept", release.Message, StringComparison.Ordinal);
        Assert.IsType<TimeoutException>(release.Exception);
    }
}
