using System.Net;
using Herald.Receiver.Events;
using Herald.Receiver.Idempotency;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Receiver.Tests.Idempotency;

public sealed class ExactlyOnceTests
{
    private static HeraldWebhookOptions Options(IIdempotencyStore? store = null)
    {
        var options = new HeraldWebhookOptions { IdempotencyStore = store };
        options.Secrets.Add(Signed.Secret);
        return options;
    }

    [Fact]
    public async Task OneId_DeliveredConcurrentlyManyTimes_RunsTheHandlerOnce()
    {
        var runs = 0;
        await using var app = await ReceiverApp.StartAsync(Options(), async (_, ct) =>
        {
            Interlocked.Increment(ref runs);
            await Task.Delay(300, ct);
        });
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var request = Signed.Request("evt_same", Signed.Transaction, DateTimeOffset.UtcNow);
            return (await app.Client.SendAsync(request)).StatusCode;
        }));
        Assert.Equal(1, runs);
        Assert.Contains(HttpStatusCode.OK, responses);
        Assert.All(responses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.Conflict, s.ToString()));

        // After the first run finished, a late duplicate is acknowledged without running again.
        using var late = Signed.Request("evt_same", Signed.Transaction, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(late)).StatusCode);
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task HandlerThatThrowsOnce_Answers500_ThenTheRetryRunsItOnce()
    {
        var runs = 0;
        var completed = 0;
        await using var app = await ReceiverApp.StartAsync(Options(), (_, _) =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                throw new InvalidOperationException("database down");
            }
            Interlocked.Increment(ref completed);
            return Task.CompletedTask;
        });
        using (var first = Signed.Request("evt_flaky", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.SendAsync(first)).StatusCode);
        }
        using (var retry = Signed.Request("evt_flaky", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(retry)).StatusCode);
        }
        using (var again = Signed.Request("evt_flaky", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(again)).StatusCode);
        }
        Assert.Equal(2, runs);
        Assert.Equal(1, completed);
    }

    [Fact]
    public async Task HandlerSlowerThanItsClaim_FailingLate_LeavesTheRetrysClaimAlone()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = Options();
        options.TimeProvider = clock;
        options.ClaimTimeout = TimeSpan.FromMinutes(1);
        var runs = 0;
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        await using var app = await ReceiverApp.StartAsync(options, async (_, _) =>
        {
            var run = Interlocked.Increment(ref runs);
            if (run == 1)
            {
                await first.Task;
                throw new InvalidOperationException("gave up after its claim ran out");
            }
            if (run == 2)
            {
                await second.Task;
            }
        });
        async Task<HttpStatusCode> DeliverAsync()
        {
            using var request = Signed.Request("evt_slow", Signed.Transaction, clock.GetUtcNow());
            return (await app.Client.SendAsync(request)).StatusCode;
        }

        var slow = DeliverAsync();
        await EventuallyAsync(() => Volatile.Read(ref runs) == 1);
        // The claim runs out while the first handler still works: Herald's retry takes the id over.
        clock.Advance(TimeSpan.FromMinutes(2));
        var retry = DeliverAsync();
        await EventuallyAsync(() => Volatile.Read(ref runs) == 2);

        first.SetResult();
        Assert.Equal(HttpStatusCode.InternalServerError, await slow);
        // The retry still holds the id: a third delivery waits its turn instead of running beside it.
        Assert.Equal(HttpStatusCode.Conflict, await DeliverAsync());
        Assert.Equal(2, Volatile.Read(ref runs));

        second.SetResult();
        Assert.Equal(HttpStatusCode.OK, await retry);
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync());
        Assert.Equal(2, Volatile.Read(ref runs));
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the expected state was not reached");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task BadSignatureOrStaleTimestamp_Is401AndTheHandlerNeverRuns()
    {
        var runs = 0;
        await using var app = await ReceiverApp.StartAsync(Options(), (_, _) => { runs++; return Task.CompletedTask; });
        using var stale = Signed.Request("evt_old", Signed.Transaction, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(6));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(stale)).StatusCode);
        using var tampered = Signed.Request("evt_t", Signed.Transaction, DateTimeOffset.UtcNow);
        tampered.Content = new StringContent(Signed.Transaction.Replace("130", "1300", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(tampered)).StatusCode);
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, "/webhooks") { Content = new StringContent(Signed.Transaction) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(unsigned)).StatusCode);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task SqliteStore_RemembersAcrossInstances_AndReleasesFailedClaims()
    {
        var file = Path.Combine(Path.GetTempPath(), "herald-ids-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await AssertStoreSemanticsAsync(new SqliteIdempotencyStore($"Data Source={file}"), () => new SqliteIdempotencyStore($"Data Source={file}"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    [Fact]
    public async Task PostgresStore_RemembersAcrossInstances_AndReleasesFailedClaims()
    {
        await using var db = await Herald.Server.Tests.Infrastructure.PostgresDatabase.CreateAsync();
        await using var source = Npgsql.NpgsqlDataSource.Create(db.ConnectionString);
        await AssertStoreSemanticsAsync(new PostgresIdempotencyStore(source), () => new PostgresIdempotencyStore(source));
    }

    [Fact]
    public async Task PostgresStores_MeetingTheirFirstNotificationAtOnce_AllClaim_NoneFailsCreatingTheTable()
    {
        await using var db = await Herald.Server.Tests.Infrastructure.PostgresDatabase.CreateAsync();
        await using var source = Npgsql.NpgsqlDataSource.Create(db.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        // Several instances of an app, each with its own store, starting together: without its table yet,
        // each creates it. The race is lost now and then, so it is run a few times afresh.
        for (var round = 0; round < 5; round++)
        {
            await using (var drop = source.CreateCommand("DROP TABLE IF EXISTS herald_webhook_ids"))
            {
                await drop.ExecuteNonQueryAsync();
            }
            var stores = Enumerable.Range(0, 8).Select(_ => new PostgresIdempotencyStore(source)).ToList();
            var claims = await Task.WhenAll(stores.Select((store, i) => store.TryClaimAsync($"evt_{round}_{i}", now, now.AddMinutes(5), default)));
            Assert.All(claims, claim => Assert.Equal(ClaimResult.Claimed, claim));
        }
    }

    [Fact]
    public async Task InMemoryStore_ForgetsTheOldestBeyondItsCapacity()
    {
        var store = new InMemoryIdempotencyStore(capacity: 2);
        var now = DateTimeOffset.UtcNow;
        foreach (var id in new[] { "a", "b", "c" })
        {
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync(id, now, now.AddMinutes(5), default));
            await store.CompleteAsync(id, now, default);
        }
        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("a", now, now.AddMinutes(5), default));
        Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("c", now, now.AddMinutes(5), default));
    }

    private static async Task AssertStoreSemanticsAsync(IIdempotencyStore store, Func<IIdempotencyStore> another)
    {
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_1", now, now.AddMinutes(5), default));
        Assert.Equal(ClaimResult.InProgress, await another().TryClaimAsync("evt_1", now, now.AddMinutes(5), default));
        // A claim whose holder died runs out and can be taken again.
        Assert.Equal(ClaimResult.Claimed, await another().TryClaimAsync("evt_1", now.AddMinutes(6), now.AddMinutes(11), default));
        // The first holder, failing late, gives back only its own claim: the new one holds.
        await store.ReleaseAsync("evt_1", now.AddMinutes(5), default);
        Assert.Equal(ClaimResult.InProgress, await another().TryClaimAsync("evt_1", now.AddMinutes(7), now.AddMinutes(12), default));
        await store.ReleaseAsync("evt_1", now.AddMinutes(11), default);
        Assert.Equal(ClaimResult.Claimed, await another().TryClaimAsync("evt_1", now, now.AddMinutes(5), default));
        await store.CompleteAsync("evt_1", now, default);
        Assert.Equal(ClaimResult.AlreadyHandled, await another().TryClaimAsync("evt_1", now.AddDays(1), now.AddDays(1), default));
        await store.ReleaseAsync("evt_1", now.AddMinutes(5), default);
        Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("evt_1", now, now.AddMinutes(5), default));

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => another().TryClaimAsync("evt_race", now, now.AddMinutes(5), default)));
        Assert.Single(results, r => r == ClaimResult.Claimed);
    }

    [Fact]
    public async Task StoreFailingToNoteTheIdAfterTheHandlerRan_StillAnswers200_AndARetryDoesNotRunItAgain()
    {
        var runs = 0;
        var store = new FaultyStore(completes: true);
        var logs = new LogSink();
        await using var app = await ReceiverApp.StartAsync(Options(store), (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.CompletedTask;
        }, logs);
        using (var first = Signed.Request("evt_noted", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            // The work is done: a 500 would bring the notification back to run the handler again.
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(first)).StatusCode);
        }
        Assert.Equal(3, store.CompleteCalls);
        Assert.Contains(logs.Receiver, e => e.EventId == 6004 && e.Exception is TimeoutException && e.Message.Contains("evt_noted", StringComparison.Ordinal));
        using (var retry = Signed.Request("evt_noted", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.NotEqual(HttpStatusCode.OK, (await app.Client.SendAsync(retry)).StatusCode);
        }
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task InMemoryStore_AtCapacity_ForgetsHandledIdsFirst_NeverOneBeingHandled()
    {
        var store = new InMemoryIdempotencyStore(capacity: 2);
        var now = DateTimeOffset.UtcNow;
        var until = now + TimeSpan.FromMinutes(5);
        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_running", now, until, default));
        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_done", now, until, default));
        await store.CompleteAsync("evt_done", now, default);
        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_new", now, until, default));

        // The oldest is still being handled: a retry of it waits instead of running it again.
        Assert.Equal(ClaimResult.InProgress, await store.TryClaimAsync("evt_running", now, until, default));
        await store.CompleteAsync("evt_running", now, default);
        Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("evt_running", now, until, default));
    }

    [Fact]
    public async Task SqliteStore_ForgetsHandledIdsAndAbandonedClaimsOlderThanItKeepsThem()
    {
        var file = Path.Combine(Path.GetTempPath(), "herald-ids-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var store = new SqliteIdempotencyStore($"Data Source={file}") { Keep = TimeSpan.FromDays(7) };
            var t0 = DateTimeOffset.UtcNow;
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_old", t0, t0.AddMinutes(5), default));
            await store.CompleteAsync("evt_old", t0, default);
            // A claim whose handler never finished (its process died): never completed, never given back.
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_abandoned", t0, t0.AddMinutes(5), default));
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_recent", t0.AddDays(2), t0.AddDays(2).AddMinutes(5), default));
            await store.CompleteAsync("evt_recent", t0.AddDays(2), default);

            // Eight days on: the first is forgotten, the second (six days old) still remembered.
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_other", t0.AddDays(8), t0.AddDays(8).AddMinutes(5), default));
            Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("evt_recent", t0.AddDays(8), t0.AddDays(8).AddMinutes(5), default));
            await using var connection = new SqliteConnection($"Data Source={file}");
            await connection.OpenAsync();
            await using var count = new SqliteCommand("SELECT COUNT(*) FROM herald_webhook_ids WHERE id IN ('evt_old', 'evt_abandoned')", connection);
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SqliteStore_KeepingHandledIdsForever_ClaimsAndRemembers()
    {
        var file = Path.Combine(Path.GetTempPath(), "herald-ids-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var store = new SqliteIdempotencyStore($"Data Source={file}") { Keep = TimeSpan.MaxValue };
            var now = DateTimeOffset.UtcNow;
            Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_kept", now, now.AddMinutes(5), default));
            await store.CompleteAsync("evt_kept", now, default);
            Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("evt_kept", now.AddYears(5), now.AddYears(5).AddMinutes(5), default));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ASqlStoreKeepingHandledIdsNoTimeAtAll_IsRefusedAtOnce(int days)
    {
        // Kept no time, a handled id would be forgotten at the next purge and a resend run the handler again.
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteIdempotencyStore("Data Source=ids.db") { Keep = TimeSpan.FromDays(days) });
        Assert.Equal("Keep", refused.ParamName);
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=ids;Mode=Memory;Cache=Shared")]
    public void ASqliteStoreInMemory_IsRefusedAtOnce_NotAtTheSecondRequest(string connectionString)
    {
        var refused = Assert.Throws<ArgumentException>(() => new SqliteIdempotencyStore(connectionString));
        Assert.StartsWith("the SQLite store of handled ids needs a file", refused.Message, StringComparison.Ordinal);
    }
}
