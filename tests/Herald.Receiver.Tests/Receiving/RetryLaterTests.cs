using System.Net;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>A handler that cannot take a notification now steers Herald with 503 and Retry-After, as the receiver's side of delivery allows.</summary>
public sealed class RetryLaterTests
{
    [Fact]
    public async Task AHandlerAskingToRetryLater_Answers503WithRetryAfter_GivesTheIdBack_AndIsNotLoggedAsAFailure()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        var runs = 0;
        await using var app = await ReceiverApp.StartAsync(options, (_, _) =>
            Interlocked.Increment(ref runs) == 1 ? throw new HeraldRetryLaterException(TimeSpan.FromSeconds(29.2)) : Task.CompletedTask, logs);

        using (var first = Signed.Request("evt_busy", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            var response = await app.Client.SendAsync(first);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
            Assert.Equal("the handler asked Herald to retry in 30 s", await response.Content.ReadAsStringAsync());
        }
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Information, 6009), (logged.Level, logged.EventId));
        Assert.Contains("evt_busy", logged.Message, StringComparison.Ordinal);

        // The id was given back: the retry runs the handler, once.
        using (var retry = Signed.Request("evt_busy", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(retry)).StatusCode);
        }
        using (var again = Signed.Request("evt_busy", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(again)).StatusCode);
        }
        Assert.Equal(2, runs);
    }

    [Fact]
    public void AWaitPastADay_AsksForADay_AndNoWaitForASecond()
    {
        Assert.Equal(TimeSpan.FromDays(1), new HeraldRetryLaterException(TimeSpan.MaxValue).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), new HeraldRetryLaterException(TimeSpan.MinValue).RetryAfter);
    }

    [Fact]
    public void WithoutAWait_HeraldIsAskedToWaitAMinute() =>
        Assert.Equal(TimeSpan.FromMinutes(1), new HeraldRetryLaterException("database busy").RetryAfter);
}
