using System.Net.Http.Json;
using Herald.Delivery;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Delivery;

/// <summary>Stopping a node that holds claims: nothing lost, nothing waits out a lease, nothing delivered twice.</summary>
public sealed class LeaseTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "herald-lease-" + Guid.NewGuid().ToString("N"));
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private static void ShortGrace(WebApplicationBuilder b) =>
        b.Services.Configure<DeliveryOptions>(o => o.ShutdownGrace = TimeSpan.FromSeconds(1));

    [Fact]
    public async Task LeaseShorterThanTheEndpointsTimeout_CutsTheAttemptToEndInsideTheLease()
    {
        // A 9 s lease and a 15 s timeout: an attempt running past 4 s (the lease less its 5 s
        // margin) could still run when another node claims the notification and sends it again.
        await using var herald = await HeraldHost.StartAsync(dataDirectory: _data, tune: o => o.Lease = TimeSpan.FromSeconds(9));
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(_receiver.Url, "thin", new { timeout_seconds = 15 });
        _receiver.Delay = TimeSpan.FromSeconds(8);
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        // Too short a lease to send it as it was handed over: it is claimed on the next poll.
        await herald.AdvanceUntilAsync(TimeSpan.Zero, () => Task.FromResult(!_receiver.Received.IsEmpty));
        var n = await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        var attempt = n["attempts"]![0]!;
        Assert.False(attempt["succeeded"]!.GetValue<bool>());
        // The merchant sees why an endpoint set to 15 s got 4.
        Assert.Equal("no answer within 4 s (the endpoint's 15 s, cut to end inside the node's lease: serve --lease-seconds)", attempt.Str("error"));
    }

    [Fact]
    public async Task HostStoppedWhileAnAttemptHangs_ReleasesTheClaim_AndTheRestartDeliversItAtOnce()
    {
        var first = await HeraldHost.StartAsync(dataDirectory: _data, configure: ShortGrace);
        using var merchant = await first.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        await merchant.AddEndpointAsync(_receiver.Url, "transaction");
        _receiver.Hold();
        var entityId = await merchant.NewTransactionAsync();
        // The worker has claimed the notification and waits for an answer that never comes.
        var webhookId = (await _receiver.WaitForAsync(1)).Headers["webhook-id"];
        await first.StopAsync();
        _receiver.Release();

        // Same clock time as the stop: well inside the 90 s lease, which no longer matters.
        var clock = new FakeTimeProvider(HeraldHost.Start);
        await using var second = await HeraldHost.StartAsync(dataDirectory: _data, clock: clock);
        using var again = second.As(key);
        var delivered = await _receiver.WaitForAsync(2);
        Assert.Equal(webhookId, delivered.Headers["webhook-id"]);
        await HeraldHost.EventuallyAsync(async () => (await again.NotificationsAsync($"entity_id={entityId}"))[0]!.Str("status") == "succeeded");
        var n = (await again.NotificationsAsync($"entity_id={entityId}"))[0]!;
        // The cut-off attempt was never recorded: one attempt, the successful one.
        Assert.Equal(1, n["attempt_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task ALongerGrace_ReachesTheWorkers_AndTheHostWaitsForIt()
    {
        // Receivers given a minute to answer need a stop that waits as long, or what they answer late is sent twice.
        await using var herald = await HeraldHost.StartAsync(dataDirectory: _data, tune: o => o.ShutdownGrace = TimeSpan.FromSeconds(70));

        Assert.Equal(TimeSpan.FromSeconds(70), herald.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value.ShutdownGrace);
        Assert.True(herald.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout > TimeSpan.FromSeconds(70));
    }

    [Fact]
    public async Task AStop_DrainsScheduledAttemptsAndResendsSideBySide_WithinOneGrace()
    {
        var first = await HeraldHost.StartAsync(dataDirectory: _data, tune: o => o.ShutdownGrace = TimeSpan.FromSeconds(5));
        using var merchant = await first.NewMerchantAsync();
        await merchant.AddEndpointAsync(_receiver.Url, "thin");
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded")).Count == 1);
        var delivered = (await merchant.NotificationsAsync("status=succeeded"))[0]!.Str("id");
        _receiver.Hold();
        // A resend and a scheduled attempt, both sent and neither answered.
        await merchant.PostJsonAsync($"/v1/notifications/{delivered}/resend", new { }, 202);
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 2, currency = "BRL" });
        await _receiver.WaitForAsync(3);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await first.StopAsync();
        stopping.Stop();
        _receiver.Release();

        // One grace for both: one after the other, the workers' and then the resends' would take twice
        // it (10 s); the bound leaves a busy machine 3.5 s for the rest of the stop.
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(8.5));
    }

    [Fact]
    public async Task CleanShutdown_LetsInFlightAttemptsFinish_AndCausesNoDuplicate()
    {
        var first = await HeraldHost.StartAsync(dataDirectory: _data);
        using var merchant = await first.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        await merchant.AddEndpointAsync(_receiver.Url, "thin");
        _receiver.Hold();
        const int orders = 10;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        await _receiver.WaitForAsync(orders);
        // Answer while the node is already stopping, within its grace.
        var stopping = first.StopAsync();
        await Task.Delay(200);
        _receiver.Release();
        await stopping;

        await using var second = await HeraldHost.StartAsync(dataDirectory: _data, clock: new FakeTimeProvider(HeraldHost.Start + TimeSpan.FromHours(2)));
        using var again = second.As(key);
        await HeraldHost.EventuallyAsync(async () => (await again.NotificationsAsync("status=succeeded&limit=100")).Count == orders);
        await Task.Delay(500);
        Assert.Equal(orders, _receiver.Received.Count);
        Assert.Equal(orders, _receiver.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
    }

    [Fact]
    public async Task ResendsNotMadeWhenTheNodeStops_AreKept_AndTheRestartMakesEachOnce()
    {
        var first = await HeraldHost.StartAsync(dataDirectory: _data, configure: ShortGrace);
        var (key, ids) = await ThreeResendsOneInFlightAsync(first);
        // The receiver still holds the first when the grace ends: it is cut off, unrecorded.
        await first.StopAsync();
        _receiver.Release();

        await AssertMadeOnceByTheRestartAsync(key, ids, expectedRequests: 3 + 1 + 3);
    }

    [Fact]
    public async Task CleanShutdown_LetsAResendInFlightFinish_AndTheRestartMakesTheOthers()
    {
        var first = await HeraldHost.StartAsync(dataDirectory: _data);
        var (key, ids) = await ThreeResendsOneInFlightAsync(first);
        // Answered while the node is already stopping, within its grace: recorded, not sent again.
        var stopping = first.StopAsync();
        await Task.Delay(200);
        _receiver.Release();
        await stopping;

        await AssertMadeOnceByTheRestartAsync(key, ids, expectedRequests: 3 + 3);
    }

    /// <summary>
    /// Three notifications delivered, then resent one at a time (the endpoint's max_concurrency):
    /// the receiver holds the first resend, the other two wait their turn. Answered 202 each:
    /// the node has taken them on.
    /// </summary>
    private async Task<(string Key, List<string> Ids)> ThreeResendsOneInFlightAsync(HeraldHost herald)
    {
        using var merchant = await herald.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        var (endpoint, _) = await merchant.AddEndpointAsync(_receiver.Url, "thin");
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        await _receiver.WaitForAsync(3);
        var ids = (await merchant.NotificationsAsync("limit=100")).Select(n => n!.Str("id")).ToList();
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count == 3);
        using (var patched = await merchant.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { max_concurrency = 1 }))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, patched.StatusCode);
        }
        _receiver.Hold();
        foreach (var id in ids)
        {
            await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        }
        await _receiver.WaitForAsync(4);
        return (key, ids);
    }

    /// <summary>A node started on the same data makes what the stopped one left: one manual attempt each in all.</summary>
    private async Task AssertMadeOnceByTheRestartAsync(string key, List<string> ids, int expectedRequests)
    {
        await using var second = await HeraldHost.StartAsync(dataDirectory: _data, clock: new FakeTimeProvider(HeraldHost.Start));
        using var again = second.As(key);
        foreach (var id in ids)
        {
            await HeraldHost.EventuallyAsync(async () =>
                (await again.NotificationAsync(id))["attempts"]!.AsArray().Any(a => a!.Str("trigger") == "manual"));
        }
        await Task.Delay(500);
        foreach (var id in ids)
        {
            var manual = (await again.NotificationAsync(id))["attempts"]!.AsArray().Where(a => a!.Str("trigger") == "manual").ToList();
            Assert.Single(manual);
            Assert.True(manual[0]!["succeeded"]!.GetValue<bool>());
        }
        Assert.Equal(expectedRequests, _receiver.Received.Count);
    }
}
