using System.Net;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>What a handler is given besides its event: the request's services and its cancellation.</summary>
public sealed class HandlerServicesTests
{
    /// <summary>Stands for a DbContext: one per request scope.</summary>
    private sealed class UnitOfWork
    {
        public Guid Id { get; } = Guid.NewGuid();
    }

    private static HeraldWebhookOptions Options()
    {
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        return options;
    }

    [Fact]
    public async Task AHandlerGivenTheRequestsServices_GetsOneScopedInstancePerNotification()
    {
        var seen = new List<(Guid First, Guid Second)>();
        await using var app = await ReceiverApp.StartAsync(
            a => a.MapHeraldWebhooks("/webhooks", Options(), (_, services, _) =>
            {
                lock (seen)
                {
                    seen.Add((services.GetRequiredService<UnitOfWork>().Id, services.GetRequiredService<UnitOfWork>().Id));
                }
                return Task.CompletedTask;
            }),
            services: s => s.AddScoped<UnitOfWork>());

        foreach (var id in new[] { "evt_1", "evt_2" })
        {
            using var request = Signed.Request(id, Signed.Transaction, DateTimeOffset.UtcNow);
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(request)).StatusCode);
        }
        Assert.Equal(2, seen.Count);
        Assert.All(seen, s => Assert.Equal(s.First, s.Second));
        Assert.NotEqual(seen[0].First, seen[1].First);
    }

    [Fact]
    public async Task AHandlerStoppingOnItsTokenWhenHeraldGivesUp_GivesTheIdBack_SoTheRetryRunsIt_LoggedAsAbortedNotAsAFailure()
    {
        var started = new TaskCompletionSource();
        var runs = 0;
        var logs = new LogSink();
        await using var app = await ReceiverApp.StartAsync(Options(), async (_, cancellationToken) =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }, logs);

        // Herald's attempt times out: it closes the connection while the handler still works.
        using (var abandoned = new CancellationTokenSource())
        using (var first = Signed.Request("evt_slow", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            var sending = app.Client.SendAsync(first, abandoned.Token);
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await abandoned.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        }

        // The retry finds the id given back (a 409 only while the first request is still unwinding).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        HttpStatusCode status;
        while (true)
        {
            using var retry = Signed.Request("evt_slow", Signed.Transaction, DateTimeOffset.UtcNow);
            status = (await app.Client.SendAsync(retry)).StatusCode;
            if (status != HttpStatusCode.Conflict || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, runs);
        // An endpoint's timeout is no fault of the handler's: a Warning saying what happened, no Error.
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Warning, 6010), (logged.Level, logged.EventId));
        Assert.Contains("evt_slow", logged.Message, StringComparison.Ordinal);
    }
}
