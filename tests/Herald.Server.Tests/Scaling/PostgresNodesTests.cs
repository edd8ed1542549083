using System.Net;
using System.Net.Http.Json;
using Herald.Server.Auth;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Scaling;

/// <summary>Herald nodes sharing one PostgreSQL database.</summary>
public sealed class PostgresNodesTests
{
    [Fact]
    public async Task SingleNodeOnPostgres_RecordsDeliversAndRetries()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString);
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "transaction");
        receiver.Status = 500;
        var id = await merchant.NewTransactionAsync();
        await receiver.WaitForAsync(1);
        receiver.Status = 200;
        // The clock moves on only once the failure is recorded: its retry is scheduled from then.
        await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        await herald.AdvanceUntilAsync(TimeSpan.FromHours(1), async () => receiver.Received.Count >= 2);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync($"entity_id={id}"))[0]!.Str("status") == "succeeded");
    }

    [Fact]
    public async Task ChangeRecordedOnANodeWithoutWorkers_IsDeliveredPromptlyByAnotherNode()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new FakeTimeProvider(HeraldHost.Start);
        await using var recorder = await HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, clock: clock);
        await using var worker = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        using var merchant = await recorder.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "thin");
        // Let the worker node arm its poll timer on the fake clock; from here only NOTIFY can wake it.
        await Task.Delay(500);

        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var request = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.Contains(order.Str("id"), request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodesWithoutAnAdminKeyOfTheirOwn_AcceptTheKeyTheFirstNodeMade()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var first = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        var second = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var a = await HeraldHost.StartAsync(postgres: db.ConnectionString, dataDirectory: first, tune: o => o.AdminKey = null);
            await using var b = await HeraldHost.StartAsync(postgres: db.ConnectionString, dataDirectory: second, tune: o => o.AdminKey = null);
            var made = a.Services.GetRequiredService<AdminKey>();
            Assert.NotNull(made.Shown);
            Assert.Equal(made.Shown, (await File.ReadAllTextAsync(Path.Combine(first, AdminKey.FileName))).Trim());
            var taken = b.Services.GetRequiredService<AdminKey>();
            Assert.Null(taken.Shown);
            Assert.True(taken.FromDatabase);
            Assert.False(File.Exists(Path.Combine(second, AdminKey.FileName)));

            // The first node's key manages merchants on either node; any other key is refused.
            using var adminOnB = b.As(made.Shown);
            Assert.Equal(HttpStatusCode.Created, (await adminOnB.PostAsJsonAsync("/v1/merchants", new { name = "Shared" })).StatusCode);
            using var guess = b.As("hk_admin_" + new string('x', 32));
            Assert.Equal(HttpStatusCode.Unauthorized, (await guess.PostAsJsonAsync("/v1/merchants", new { name = "Nope" })).StatusCode);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public async Task AnAdminKeyGivenToOneNode_IsAcceptedByANodeWithoutOne()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var bare = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var given = await HeraldHost.StartAsync(postgres: db.ConnectionString);
            await using var other = await HeraldHost.StartAsync(postgres: db.ConnectionString, dataDirectory: bare, tune: o => o.AdminKey = null);
            Assert.True(other.Services.GetRequiredService<AdminKey>().FromDatabase);
            using var admin = other.As(HeraldHost.AdminKey);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/merchants", new { name = "Given" })).StatusCode);
        }
        finally
        {
            Directory.Delete(bare, recursive: true);
        }
    }

    [Fact]
    public async Task AnAdminKeyReplacedByANodeStartedWithANewOne_IsFollowedByTheRunningNodes_AndTheOldOneRefused()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var bare = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var first = await HeraldHost.StartAsync(postgres: db.ConnectionString);
            await using var other = await HeraldHost.StartAsync(postgres: db.ConnectionString, dataDirectory: bare, tune: o => o.AdminKey = null);
            using var oldOnOther = other.As(HeraldHost.AdminKey);
            Assert.Equal(HttpStatusCode.OK, (await oldOnOther.GetAsync("/v1/operator/endpoints")).StatusCode);

            // The key leaked: a node started with a new one replaces it in the database.
            const string replacement = "hk_admin_replacement_key_0123456789";
            await using var replacing = await HeraldHost.StartAsync(postgres: db.ConnectionString, tune: o => o.AdminKey = replacement);
            using var newOnOther = other.As(replacement);
            using var oldOnFirst = first.As(HeraldHost.AdminKey);
            // Every running node follows at once, announced, well before its ten-second read, the one
            // given the old key included (watched in the nodes themselves: a wrong key asked again
            // and again would run into the per-address budget of unknown keys).
            var followers = new[] { first, other }.Select(n => n.Services.GetRequiredService<AdminKey>()).ToList();
            await HeraldHost.EventuallyAsync(() => Task.FromResult(followers.All(k => k.Matches(replacement) && !k.Matches(HeraldHost.AdminKey))), TimeSpan.FromSeconds(5));
            Assert.Equal(HttpStatusCode.OK, (await newOnOther.GetAsync("/v1/operator/endpoints")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await oldOnFirst.GetAsync("/v1/operator/endpoints")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await oldOnOther.GetAsync("/v1/operator/endpoints")).StatusCode);
            using var newOnFirst = first.As(replacement);
            Assert.Equal(HttpStatusCode.OK, (await newOnFirst.GetAsync("/v1/operator/endpoints")).StatusCode);
        }
        finally
        {
            Directory.Delete(bare, recursive: true);
        }
    }

    [Fact]
    public async Task TwoNodes_RecordingAtOnce_DeliverEveryNotification_NoneTwice()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new FakeTimeProvider(HeraldHost.Start);
        await using var a = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        await using var b = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        using var onA = await a.NewMerchantAsync();
        using var onB = b.As(onA.DefaultRequestHeaders.Authorization!.Parameter!);
        await onA.AddEndpointAsync(receiver.Url, "thin");
        const int orders = 40;
        var created = await Task.WhenAll(Enumerable.Range(0, orders).Select(i =>
            (i % 2 == 0 ? onA : onB).PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })));
        await receiver.WaitForAsync(orders, TimeSpan.FromSeconds(20));
        await Task.Delay(300);
        var ids = receiver.Received.Select(r => r.Headers["webhook-id"]).ToList();
        Assert.Equal(orders, ids.Count);
        Assert.Equal(orders, ids.Distinct().Count());
    }

    [Fact]
    public async Task ServerWithNoConnectionLeft_ReadinessSaysSo_AndComesBackWhenOneIsFree()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var (connectionString, setConnectionLimit) = await db.OwnRoleAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: connectionString);
        Assert.Equal("ready", await ReadinessAsync(herald));

        await setConnectionLimit(0);
        // The pool's connections were cut; once they are let go, a new one is refused as over the limit.
        string? status = null;
        try
        {
            await HeraldHost.EventuallyAsync(async () => (status = await ReadinessAsync(herald)) == "database out of connections", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"readiness stayed \"{status}\"");
        }

        await setConnectionLimit(-1);
        await HeraldHost.EventuallyAsync(async () => await ReadinessAsync(herald) == "ready", TimeSpan.FromSeconds(20));

        static async Task<string?> ReadinessAsync(HeraldHost herald)
        {
            using var response = await herald.Client.GetAsync("/readyz");
            var status = (await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["status"]!.GetValue<string>();
            Assert.Equal(status == "ready" ? System.Net.HttpStatusCode.OK : System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
            return status;
        }
    }

    [Fact]
    public async Task ADatabaseAnsweringReadOnly_IsNotReady_UntilItTakesWritesAgain()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString);
        using var merchant = await herald.NewMerchantAsync();
        await HeraldHost.EventuallyAsync(async () => (await herald.Client.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.OK);

        // A standby a failover left the node on answers every read, and refuses every change.
        await db.SetReadOnlyAsync(true);
        // (The first request may meet a pooled connection the server cut: that one says unreachable.)
        await HeraldHost.EventuallyAsync(async () =>
        {
            using var refused = await merchant.PostAsJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
            return refused.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable
                && (await refused.Content.ReadAsStringAsync()).Contains("(it is read-only)", StringComparison.Ordinal);
        });
        // Not ready, saying why (a probe meeting another cut connection says unreachable, as above).
        await HeraldHost.EventuallyAsync(async () =>
        {
            using var ready = await herald.Client.GetAsync("/readyz");
            var status = (await ready.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["status"]!.GetValue<string>();
            Assert.NotEqual("ready", status);
            return ready.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && status == "database read-only";
        });

        await db.SetReadOnlyAsync(false);
        await HeraldHost.EventuallyAsync(async () => (await herald.Client.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.OK);
    }

    [Fact]
    public async Task DatabaseLostWhileRunning_WorkersBackOffAndResume_NothingMarkedDeliveredMeanwhile()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString);
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "transaction");
        receiver.Status = 500;
        var id = await merchant.NewTransactionAsync();
        await receiver.WaitForAsync(1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync($"entity_id={id}"))[0]!["attempt_count"]!.GetValue<int>() == 1);

        await db.SetReachableAsync(false);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await herald.Client.GetAsync("/readyz")).StatusCode);
        // A change asked for meanwhile is refused as the database's trouble, not Herald's. A database
        // gone away may have taken a change's commit before it went, so a change is never said to be
        // undone, only a read.
        using (var refused = await merchant.PostAsJsonAsync("/v1/transactions", new { paymentAmount = 10, currency = "BRL", country = "BR" }))
        {
            await ApiErrors.ExpectErrorAsync(refused, 503,
                "Herald's database cannot take requests now (it cannot be reached): the change may still be recorded; check before asking again (a retry with an Idempotency-Key is recorded once)");
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        }
        using (var refused = await merchant.GetAsync($"/v1/notifications?entity_id={id}"))
        {
            await ApiErrors.ExpectErrorAsync(refused, 503, "Herald's database cannot take requests now (it cannot be reached): nothing was done; retry later");
        }
        receiver.Status = 200;
        herald.Clock.Advance(TimeSpan.FromHours(1));
        await Task.Delay(1500);
        herald.Clock.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(500);
        Assert.Single(receiver.Received);

        await db.SetReachableAsync(true);
        await herald.AdvanceUntilAsync(TimeSpan.Zero, async () => receiver.Received.Count >= 2, TimeSpan.FromSeconds(45));
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync($"entity_id={id}"))[0]!.Str("status") == "succeeded");
    }

    [Fact]
    public async Task AFailureOnAnotherNode_ThenSuccessesHere_DoNotCountAsDaysOfFailures()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new FakeTimeProvider(HeraldHost.Start);
        await using var a = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        var b = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        using var onA = await a.NewMerchantAsync();
        using var onB = b.As(onA.DefaultRequestHeaders.Authorization!.Parameter!);
        var (endpoint, _) = await onA.AddEndpointAsync(receiver.Url, "transaction", new { retry = "exponential" });

        // A delivers (and knows the endpoint healthy); B's delivery fails, which B writes down.
        await onA.NewTransactionAsync();
        await receiver.WaitForAsync(1);
        receiver.Status = 500;
        var failed = await onB.NewTransactionAsync();
        await onA.WaitForAttemptsAsync(failed, "TRANSACTION.INIT", 1);
        // A delivers again, a second later (short of the retry): the endpoint answers, though
        // nothing clears B's record of the failure.
        clock.Advance(TimeSpan.FromSeconds(1));
        receiver.Status = 200;
        var delivered = await onA.NewTransactionAsync();
        await onA.WaitForAttemptsAsync(delivered, "TRANSACTION.INIT", 1);
        await b.DisposeAsync();

        // Six days on, one failure on A: not six days of failures, so the endpoint stays enabled.
        receiver.Status = 500;
        await a.AdvanceUntilAsync(TimeSpan.FromDays(6), async () => receiver.Received.Count >= 4);
        await onA.WaitForAttemptsAsync(failed, "TRANSACTION.INIT", 2);
        await Task.Delay(500);
        var state = await onA.GetJsonAsync($"/v1/endpoints/{endpoint}");
        Assert.True(state["enabled"]!.GetValue<bool>(), state.ToJsonString());
    }
}
