using DbUp;
using Herald.Entities;
using Herald.Ids;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Storage.Sqlite;
using Herald.Storage.Tests.Compliance;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Tests.Sqlite;

public sealed class SqliteStoreComplianceTests : StoreComplianceTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "herald-store-" + Guid.NewGuid().ToString("N"));
    private SqliteStore? _store;

    protected override async Task<IHeraldStore> CreateStoreAsync()
    {
        _store = new SqliteStore(new SqliteStoreOptions { DataDirectory = _folder });
        Assert.Equal(["0001_initial.sql", "0002_attempts_started.sql", "0003_endpoint_health.sql", "0004_leases.sql", "0005_parked.sql", "0006_entity_lookups.sql", "0007_events_without_version_key.sql", "0008_entity_sequence.sql", "0009_endpoints_deleted.sql", "0010_attempts_by_notification.sql", "0011_resends.sql", "0012_decined.sql", "0013_portal_sessions_ended.sql", "0014_resends_only_failed.sql", "0015_endpoint_headers.sql", "0016_idempotency_keys_by_event.sql", "0017_decined_documents.sql", "0018_api_key_scopes.sql", "0019_resends_under_way.sql", "0020_portal_links.sql", "0021_attempt_hours.sql", "0022_merchant_portal_sessions_ended.sql", "0023_attempt_hour_epochs.sql", "0024_write_checks.sql"], await _store.MigrateAsync());
        return _store;
    }

    protected override Task DestroyStoreAsync()
    {
        _store?.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    protected override System.Data.Common.DbException DiskFullError() => new SqliteException("database or disk is full", 13);

    protected override System.Data.Common.DbException ReadOnlyError() => new SqliteException("attempt to write a readonly database", 8);

    protected override bool WriteCheckEndsDiskFull => true;

    protected override async Task<long> CountAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "herald.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ADatabaseANewerHeraldMigrated_IsRefused_NamingWhatThisBuildDoesNotKnow()
    {
        Assert.Equal(1, await CountAsync("INSERT INTO SchemaVersions (ScriptName, Applied) VALUES ('Herald.Storage.Sqlite.Schema.0999_later.sql', '2027-01-01 00:00:00') RETURNING 1"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _store!.MigrateAsync());
        Assert.Equal("the database was brought up to date by a newer Herald: it holds a migration this build does not know (0999_later.sql); "
            + "run that release or a newer one, or restore the backup made before the upgrade", refused.Message);
    }

    [Fact]
    public void AFolderWhoseDatabaseIsMissingButItsLogIsThere_IsRefused_NoEmptyDatabaseMadeBesideIt()
    {
        var folder = Path.Combine(Path.GetTempPath(), "herald-left-log-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var log = Path.Combine(folder, "herald.db-wal");
            File.WriteAllBytes(log, new byte[4096]);
            var refused = Assert.Throws<IOException>(() => new SqliteStore(new SqliteStoreOptions { DataDirectory = folder }));
            Assert.StartsWith($"{Path.Combine(folder, "herald.db")} is missing, but its log {log} is there: the database was moved or removed.", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(folder, "herald.db")));

            // Removed as the message says, the folder starts anew.
            File.Delete(log);
            using var store = new SqliteStore(new SqliteStoreOptions { DataDirectory = folder });
            Assert.True(File.Exists(Path.Combine(folder, "herald.db")));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task RoundsTakenBeforeTheCommit_ShareTheTransaction_AnsweredInOrder()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var handed = new NewNotification(HeraldId.New(HeraldId.Notification, Time), ep.Id, "{}", Immediate: true);
        var first = Change(m, "a", 1, "OPENED", null, T0) with { Notifications = [handed] };
        var lease = new NotificationLease("token-1", T0 + Lease);
        var second = Change(m, "b", 1, "OPENED", ep.Id, T0);
        var again = Change(m, "a", 1, "OPENED", ep.Id, T0);
        // The first round's notification is sent and its outcome arrives for the second round.
        var attempt = new Attempt(HeraldId.New(HeraldId.Attempt, Time), handed.Id, 1, AttemptTriggers.Schedule, T0, 5, 200, true, null, null);
        var outcome = new AttemptOutcome(attempt, NotificationStatuses.Succeeded, null, false, lease.Token);
        var rounds = new Queue<WriteRound?>([new WriteRound([second, again], [outcome], null), new WriteRound([], [], null), null]);
        var asked = 0;

        var (changes, attempts) = await Store.WriteBatchAsync([first], [], lease, default, () =>
        {
            asked++;
            return rounds.Dequeue();
        });

        Assert.Equal(3, asked);
        // The second creation of "a" came after the first in the same transaction: it lost.
        Assert.Equal([CommitResult.Committed, CommitResult.Committed, CommitResult.VersionConflict], changes);
        Assert.Equal([true], attempts);
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, handed.Id))!.Status);
        Assert.NotNull(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "b"));
        Assert.Equal(2, (await Store.ListNotificationsAsync(m, new NotificationQuery())).Data.Count);
    }

    [Fact]
    public async Task ARoundTheDatabaseRefuses_UndoesTheRoundsBeforeIt()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var good = Change(m, "a", 1, "OPENED", ep.Id, T0, ("key-a", "hash-a"));
        // A notification whose id the first round took already: the database refuses the transaction.
        var bad = Change(m, "b", 1, "OPENED", null, T0) with { Notifications = [good.Notifications[0] with { Payload = "{\"again\":1}" }] };
        var asked = 0;

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.WriteBatchAsync([good], [], null, default,
            () => asked++ == 0 ? new WriteRound([bad], [], null) : null));

        Assert.Equal(1, asked);
        Assert.Null(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "a"));
        Assert.Null(await Store.GetNotificationAsync(m, good.Notifications[0].Id));
        Assert.Null(await Store.FindIdempotencyKeyAsync(m, "key-a"));
    }

    [Fact]
    public async Task ALogRemovedUnderTheStore_StaysFoundGone_AfterANewConnectionMakesAnotherAtItsPath()
    {
        await MerchantAsync();
        Assert.True(await Store.PingAsync());
        var log = Path.Combine(_folder, "herald.db-wal");
        File.Delete(log);
        // Any connection opened next makes an empty log at the same path (its read then fails, the
        // shared index naming frames the new log does not hold): the open ones still write to the
        // removed one, which the next start would not find.
        await using (var other = new SqliteConnection($"Data Source={Path.Combine(_folder, "herald.db")};Pooling=False"))
        {
            await other.OpenAsync();
            await using var read = other.CreateCommand();
            read.CommandText = "SELECT count(*) FROM merchants";
            await Assert.ThrowsAsync<SqliteException>(() => read.ExecuteScalarAsync());
        }
        Assert.True(File.Exists(log));

        Assert.False(await Store.PingAsync());
        var refused = await Assert.ThrowsAsync<Herald.Errors.HeraldException>(() => MerchantAsync("Other"));
        Assert.Equal(Herald.Errors.ErrorKind.Unavailable, refused.Kind);
        Assert.False(await Store.PingAsync());
    }

    [Fact]
    public async Task ADatabaseRemovedUnderTheStore_IsNotMadeAnewEmpty_ByTheNextReadConnection()
    {
        var m = await MerchantAsync();
        var database = Path.Combine(_folder, "herald.db");
        foreach (var file in Directory.EnumerateFiles(_folder, "herald.db*"))
        {
            File.Delete(file);
        }
        // No pooled reader left: the next read opens a connection anew at the path.
        SqliteConnection.ClearAllPools();

        var failed = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.GetMerchantAsync(m));
        // Said as the file being gone (a 503 to the API's caller), not as a table missing from a
        // new empty database (a 500): and no such database is left at the path for a restart to use.
        Assert.Equal(DatabaseTrouble.FileGone, Store.TroubleOf(failed));
        Assert.False(File.Exists(database));
        Assert.False(await Store.PingAsync());
    }

    [Fact]
    public async Task Database_IsInWalMode()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "herald.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task ADatabaseOfTheEarlierSchema_KeepsEachNotificationsAttempts_AfterTheUpgrade() =>
        // The database as the release before attempts were kept by notification left it.
        await UpgradedAsync("0010", EarlierAttempts, ["0010_attempts_by_notification.sql", "0011_resends.sql", "0012_decined.sql", "0013_portal_sessions_ended.sql", "0014_resends_only_failed.sql", "0015_endpoint_headers.sql", "0016_idempotency_keys_by_event.sql", "0017_decined_documents.sql", "0018_api_key_scopes.sql", "0019_resends_under_way.sql", "0020_portal_links.sql", "0021_attempt_hours.sql", "0022_merchant_portal_sessions_ended.sql", "0023_attempt_hour_epochs.sql", "0024_write_checks.sql"], AssertEarlierAttemptsListedAsync);

    [Fact]
    public async Task ADeclinedTransactionRecordedBeforeTheSeedsSpelling_IsRenamedDecined_ByTheUpgrade() =>
        await UpgradedAsync("0012", EarlierDeclined, ["0012_decined.sql", "0013_portal_sessions_ended.sql", "0014_resends_only_failed.sql", "0015_endpoint_headers.sql", "0016_idempotency_keys_by_event.sql", "0017_decined_documents.sql", "0018_api_key_scopes.sql", "0019_resends_under_way.sql", "0020_portal_links.sql", "0021_attempt_hours.sql", "0022_merchant_portal_sessions_ended.sql", "0023_attempt_hour_epochs.sql", "0024_write_checks.sql"], async upgraded =>
        {
            var entity = (await upgraded.GetEntityAsync("mer_old", EntityKind.Transaction, "tx-1"))!;
            Assert.Equal("DECINED", entity.State);
            Assert.Equal("DECINED", entity.Document["status"]!.GetValue<string>());
            var declined = (await upgraded.GetEventAsync("mer_old", "evt_0000000002"))!;
            Assert.Equal(("TRANSACTION.DECINED", "DECINED"), (declined.Type, declined.ToState));
            // What was sent stays as it was sent: a resend carries the body its receiver saw.
            Assert.Equal("DECLINED", declined.Snapshot["status"]!.GetValue<string>());
            // The change before it is as it was.
            Assert.Equal("TRANSACTION.PROCESSING", (await upgraded.GetEventAsync("mer_old", "evt_0000000001"))!.Type);
            Assert.Equal("TRANSACTION.DECINED", (await upgraded.GetNotificationAsync("mer_old", "ntf_old"))!.EventType);
            Assert.Equal(["TRANSACTION.PROCESSING", "TRANSACTION.DECINED"], (await upgraded.GetEndpointAsync("mer_old", "ep_old"))!.EventTypes);
            // One whose document was its event's snapshot (the row keeping no text of its own) reads renamed too.
            var kept = (await upgraded.GetEntityAsync("mer_old", EntityKind.Transaction, "tx-2"))!;
            Assert.Equal("DECINED", kept.State);
            Assert.Equal("DECINED", kept.Document["status"]!.GetValue<string>());
            Assert.Equal("DECLINED", (await upgraded.GetEventAsync("mer_old", "evt_0000000003"))!.Snapshot["status"]!.GetValue<string>());
        });

    /// <summary>A transaction declined, its notification and an endpoint filtering on it, as the release before the seed's spelling wrote them.</summary>
    private const string EarlierDeclined = """
        INSERT INTO merchants (id, name, created_at) VALUES ('mer_old', 'Old', 0);
        INSERT INTO endpoints (id, merchant_id, url, format, event_types, success_rule, retry_policy, timeout_seconds, source, created_at, updated_at)
          VALUES ('ep_old', 'mer_old', 'https://example.com/hook', 'transaction', '["TRANSACTION.PROCESSING","TRANSACTION.DECLINED"]', '200', 'hourly', 10, 'api', 0, 0);
        INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at)
          VALUES ('transaction', 'tx-1', 'mer_old', 'DECLINED', 2, NULL, '{"internalId":"tx-1","status":"DECLINED"}', 0, 0);
        INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot, entity_seq) VALUES
          ('evt_0000000001', 'mer_old', 'transaction', 'tx-1', 'TRANSACTION.PROCESSING', 'INIT', 'PROCESSING', 1, 0, '{"internalId":"tx-1","status":"PROCESSING"}', 1),
          ('evt_0000000002', 'mer_old', 'transaction', 'tx-1', 'TRANSACTION.DECLINED', 'PROCESSING', 'DECLINED', 2, 0, '{"internalId":"tx-1","status":"DECLINED"}', 1);
        INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at)
          VALUES ('transaction', 'tx-2', 'mer_old', 'DECLINED', 1, NULL, '', 0, 0);
        INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot, entity_seq) VALUES
          ('evt_0000000003', 'mer_old', 'transaction', 'tx-2', 'TRANSACTION.DECLINED', NULL, 'DECLINED', 1, 0, '{"internalId":"tx-2","status":"DECLINED"}', 2);
        INSERT INTO notifications (id, merchant_id, event_id, endpoint_id, entity_kind, entity_id, event_type, status, payload, created_at)
          VALUES ('ntf_old', 'mer_old', 'evt_0000000002', 'ep_old', 'transaction', 'tx-1', 'TRANSACTION.DECLINED', 'succeeded', '', 0);
        """;

    /// <summary>A notification with two attempts, as the release before attempts were kept by notification wrote them (the second attempt's id the lower).</summary>
    private static string EarlierAttempts => $"""
        INSERT INTO merchants (id, name, created_at) VALUES ('mer_old', 'Old', 0);
        INSERT INTO endpoints (id, merchant_id, url, format, success_rule, retry_policy, timeout_seconds, source, created_at, updated_at)
          VALUES ('ep_old', 'mer_old', 'https://example.com/hook', 'transaction', 'any_2xx', '{"{}"}', 10, 'api', 0, 0);
        INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at)
          VALUES ('transaction', 'tx-1', 'mer_old', 'PENDING', 1, NULL, '{"{}"}', 0, 0);
        INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot, entity_seq)
          VALUES ('evt_old', 'mer_old', 'transaction', 'tx-1', 'transaction.pending', NULL, 'PENDING', 1, 0, '{"{}"}', 1);
        INSERT INTO notifications (id, merchant_id, event_id, endpoint_id, entity_kind, entity_id, event_type, status, payload, created_at)
          VALUES ('ntf_old', 'mer_old', 'evt_old', 'ep_old', 'transaction', 'tx-1', 'transaction.pending', 'succeeded', '{"{}"}', 0);
        INSERT INTO attempts (id, notification_id, number, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt) VALUES
          ('att_0000000002', 'ntf_old', 1, 'schedule', {T0.ToUnixTimeMilliseconds()}, 30, 500, 0, 'HTTP 500', 'boom'),
          ('att_0000000001', 'ntf_old', 2, 'schedule', {T0.AddMinutes(1).ToUnixTimeMilliseconds()}, 12, 200, 1, NULL, NULL);
        """;

    /// <summary>
    /// Rows as the release before entity sequence numbers wrote them: two entities made in the order
    /// opposite to their ids, one of them changed once.
    /// </summary>
    private const string EarlierRows = """
        INSERT INTO merchants (id, name, created_at) VALUES ('mer_old', 'Old', 0);
        INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at) VALUES
          ('payment_order', 'po-b', 'mer_old', 'OPENED', 1, NULL, '{"id":"po-b","status":"OPENED"}', 1, 1),
          ('payment_order', 'po-a', 'mer_old', 'CLOSED', 2, NULL, '{"id":"po-a","status":"CLOSED"}', 2, 3);
        INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot) VALUES
          ('evt_0000000001', 'mer_old', 'payment_order', 'po-b', 'payment_order.opened', NULL, 'OPENED', 1, 1, '{}'),
          ('evt_0000000002', 'mer_old', 'payment_order', 'po-a', 'payment_order.opened', NULL, 'OPENED', 1, 2, '{}'),
          ('evt_0000000003', 'mer_old', 'payment_order', 'po-a', 'payment_order.closed', 'OPENED', 'CLOSED', 2, 3, '{}');
        """;

    /// <summary>After the upgrade, each entity of <see cref="EarlierRows"/> is found with its events, and takes new changes.</summary>
    private static async Task AssertEarlierRowsFoundAsync(SqliteStore upgraded)
    {
        Assert.Equal(["evt_0000000003", "evt_0000000002"], (await upgraded.ListEventsAsync("mer_old", "po-a", 10, null)).Data.Select(e => e.Id));
        Assert.Equal(["evt_0000000001"], (await upgraded.ListEventsAsync("mer_old", "po-b", 10, null)).Data.Select(e => e.Id));
        Assert.Equal(["evt_0000000003", "evt_0000000002", "evt_0000000001"], (await upgraded.ListEventsAsync("mer_old", null, 10, null)).Data.Select(e => e.Id));
        var change = Change("mer_old", "po-b", 2, "CLOSED", null, T0);
        Assert.Equal(CommitResult.Committed, await upgraded.CommitChangeAsync(change));
        Assert.Equal([change.Event.Id, "evt_0000000001"], (await upgraded.ListEventsAsync("mer_old", "po-b", 10, null)).Data.Select(e => e.Id));
        Assert.Equal("CLOSED", (await upgraded.GetEntityAsync("mer_old", EntityKind.PaymentOrder, "po-b"))!.State);
    }

    [Fact]
    public async Task ADatabaseOfTheEarlierSchema_StillFindsEachEntitysEvents_AfterTheUpgrade() =>
        // The database as the release before entity sequence numbers left it.
        await UpgradedAsync("0008", EarlierRows, ["0008_entity_sequence.sql", "0009_endpoints_deleted.sql", "0010_attempts_by_notification.sql", "0011_resends.sql", "0012_decined.sql", "0013_portal_sessions_ended.sql", "0014_resends_only_failed.sql", "0015_endpoint_headers.sql", "0016_idempotency_keys_by_event.sql", "0017_decined_documents.sql", "0018_api_key_scopes.sql", "0019_resends_under_way.sql", "0020_portal_links.sql", "0021_attempt_hours.sql", "0022_merchant_portal_sessions_ended.sql", "0023_attempt_hour_epochs.sql", "0024_write_checks.sql"], AssertEarlierRowsFoundAsync);

    /// <summary>
    /// A database migrated up to (not including) the script numbered <paramref name="before"/>, with
    /// <paramref name="rows"/> written into it then, upgraded by the store and checked.
    /// </summary>
    private static async Task UpgradedAsync(string before, string rows, string[] applied, Func<SqliteStore, Task> check)
    {
        var folder = Path.Combine(Path.GetTempPath(), "herald-upgrade-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "herald.db");
            var earlier = DeployChanges.To.SqliteDatabase($"Data Source={path}")
                .WithScriptsEmbeddedInAssembly(typeof(SqliteStore).Assembly, name => string.CompareOrdinal(name, "Herald.Storage.Sqlite.Schema." + before) < 0)
                .LogToNowhere()
                .Build();
            Assert.True(earlier.PerformUpgrade().Successful);
            await using (var connection = new SqliteConnection($"Data Source={path}"))
            {
                await connection.OpenAsync();
                await using var insert = connection.CreateCommand();
                insert.CommandText = rows;
                await insert.ExecuteNonQueryAsync();
            }
            SqliteConnection.ClearAllPools();

            using var upgraded = new SqliteStore(new SqliteStoreOptions { DataDirectory = folder });
            Assert.Equal(applied, await upgraded.MigrateAsync());
            await check(upgraded);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
