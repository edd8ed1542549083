using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Ids;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Storage.Postgres;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Tests.Compliance;
using Dapper;
using DbUp;
using Npgsql;

namespace Herald.Storage.Tests.Postgres;

/// <summary>The same suite on a fresh database of the cluster ./test.sh starts; never skipped.</summary>
public sealed class PostgresStoreComplianceTests : StoreComplianceTests
{
    private PostgresDatabase? _db;
    private PostgresStore? _store;

    protected override async Task<IHeraldStore> CreateStoreAsync()
    {
        _db = await PostgresDatabase.CreateAsync();
        _store = new PostgresStore(_db.ConnectionString);
        Assert.Equal(["0001_initial.sql", "0002_data_protection_keys.sql", "0003_attempts_started.sql", "0004_endpoint_health.sql", "0005_queue_vacuum.sql", "0006_leases.sql", "0007_parked.sql", "0008_hot_path_keys.sql", "0009_entity_lookups.sql", "0010_endpoints_deleted.sql", "0011_resends.sql", "0012_attempts_by_notification.sql", "0013_entities_room_to_change.sql", "0014_admin_key.sql", "0015_decined.sql", "0016_portal_sessions_ended.sql", "0017_resends_only_failed.sql", "0018_endpoint_headers.sql", "0019_idempotency_keys_by_event.sql", "0020_decined_documents.sql", "0021_api_key_scopes.sql", "0022_resends_under_way.sql", "0023_portal_links.sql", "0024_attempt_hours.sql", "0025_merchant_portal_sessions_ended.sql", "0026_attempt_hour_epochs.sql", "0027_write_checks.sql", "0028_parked_condition.sql"], await _store.MigrateAsync());
        return _store;
    }

    [Fact]
    public async Task ABatch_IsWhatItWasGiven_NoRoundIsTakenOnBeforeItCommits()
    {
        var m = await MerchantAsync();
        // Even a change written one statement at a time (under an idempotency key) takes no more:
        // rows taken later would be locked out of the batch's key order, with two writers at once.
        var (changes, _) = await Store.WriteBatchAsync([Change(m, "po-a", 1, "OPENED", null, T0, ("key-a", "hash-a"))], [], null, default,
            () => throw new InvalidOperationException("a store writing batches at once asked for more"));

        Assert.Equal([CommitResult.Committed], changes);
    }

    [Fact]
    public async Task KeptResends_ANodeClaimingPassesOverOnesAnotherIsTakingThisMoment()
    {
        var m = await MerchantAsync();
        await Store.AddResendsAsync(
            [new ResendRequest("rsd_1", m, ["ntf_a"], false, 0, T0), new ResendRequest("rsd_2", m, ["ntf_b"], false, 0, T0.AddSeconds(1))], "gone", T0);
        // Another node's claim has locked the oldest and not committed yet: this one takes the
        // next rather than waiting for it (or taking it too).
        await using (var other = await OpenTransactionAsync("SELECT 1 FROM resends WHERE id = 'rsd_1' FOR UPDATE"))
        {
            var taken = await Store.ClaimResendsAsync("node-b", T0, T0 + Lease, 10).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(["rsd_2"], taken.Select(r => r.Id));
        }
        Assert.Equal(["rsd_1"], (await Store.ClaimResendsAsync("node-c", T0, T0 + Lease, 10)).Select(r => r.Id));
    }

    [Fact]
    public async Task BatchesCaughtInALockCycle_AreWrittenAgain_AndNoCallerSeesTheDeadlock()
    {
        var m = await MerchantAsync();
        await Store.CommitChangesAsync([Change(m, "po-x", 1, "OPENED", null, T0), Change(m, "po-y", 1, "OPENED", null, T0)]);
        var deadlocksBefore = await DeadlocksAsync();
        // Another transaction holds po-x, so that each batch below takes its first entity and then
        // waits for the other's: batch a writes po-x on its own (it has an idempotency key) and
        // po-y with the batch, batch b the other way round.
        await using (var hold = await OpenTransactionAsync("SELECT 1 FROM entities WHERE id = 'po-x' FOR UPDATE"))
        {
            var a = Store.CommitChangesAsync([Change(m, "po-x", 2, "CLOSED", null, T0, ("key-a", "hash-a")), Change(m, "po-y", 2, "CLOSED", null, T0)]);
            await WaitForLockWaitersAsync(1);
            var b = Store.CommitChangesAsync([Change(m, "po-y", 2, "EXPIRED", null, T0, ("key-b", "hash-b")), Change(m, "po-x", 2, "EXPIRED", null, T0)]);
            await WaitForLockWaitersAsync(2);
            await hold.RollbackAsync();

            // The server breaks the cycle by undoing one batch; written again, it finds both
            // entities moved on: as if it had come after the other, not an error.
            IReadOnlyList<CommitResult>[] results = [await a, await b];
            Assert.Contains(results, r => r.SequenceEqual([CommitResult.Committed, CommitResult.Committed]));
            Assert.Contains(results, r => r.SequenceEqual([CommitResult.VersionConflict, CommitResult.VersionConflict]));
        }
        var x = (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po-x"))!;
        var y = (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po-y"))!;
        Assert.Equal(x.State, y.State);
        Assert.Equal(2, (await Store.ListEventsAsync(m, "po-x", 100, null)).Data.Count);
        Assert.Equal(2, (await Store.ListEventsAsync(m, "po-y", 100, null)).Data.Count);
        // And the cycle did happen.
        await AssertADeadlockSinceAsync(deadlocksBefore, "the two batches never waited on each other");
    }

    [Fact]
    public async Task AnEntitysChange_RewritesItsRowInPlace_EvenAfterManyEntitiesWereCreatedBesideIt()
    {
        var m = await MerchantAsync();
        // Enough entities created one after another to fill the first pages of the table.
        for (var batch = 0; batch < 4; batch++)
        {
            Assert.All(await Store.CommitChangesAsync([.. Enumerable.Range(batch * 50, 50).Select(i => Change(m, $"po-{i}", 1, "OPENED", null, T0))]),
                r => Assert.Equal(CommitResult.Committed, r));
        }
        const string PageOf = "SELECT (ctid::text::point)[0]::bigint FROM entities WHERE id = 'po-0'";
        var page = await ScalarAsync(PageOf);
        Assert.True(await ScalarAsync("SELECT max((ctid::text::point)[0]::bigint) FROM entities") > page, "the entities created after the first filled its page");
        await using (var connection = new NpgsqlConnection(_db!.ConnectionString))
        {
            await connection.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pageinspect");
        }
        // A full page keeps room: more than a tenth of it (a row here is about 130 bytes).
        Assert.True(await ScalarAsync($"SELECT (upper - lower)::bigint FROM page_header(get_raw_page('entities', {page}::int))") > 819, "the page kept no room");

        Assert.Equal([CommitResult.Committed], await Store.CommitChangesAsync([Change(m, "po-0", 2, "PAID", null, T0.AddMinutes(1))]));

        // The new version went on the same page as a heap-only tuple: no key entry was made for it.
        Assert.Equal(page, await ScalarAsync(PageOf));
        Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM heap_page_items(get_raw_page('entities', {page}::int)) WHERE t_infomask2 & 32768 <> 0"));
        Assert.Equal("PAID", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po-0"))?.State);
    }

    [Fact]
    public async Task ACreateRacingAnotherCreateOfTheSameEntity_IsAConflict_NotAnError()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        // Another transaction has created po-r and not committed yet: the batch's create, which
        // did not see it, waits for it and then finds the id taken.
        await using (var other = await OpenTransactionAsync("""
            INSERT INTO entities (kind, id, merchant_id, state, version, document, created_at, updated_at)
            VALUES ('payment_order', 'po-r', @m, 'OPENED', 1, '{}', 0, 0)
            """, new { m }))
        {
            var racing = Store.CommitChangesAsync([Change(m, "po-r", 1, "OPENED", ep.Id, T0), Change(m, "po-s", 1, "OPENED", ep.Id, T0)]);
            await WaitForLockWaitersAsync(1);
            await other.CommitAsync();

            Assert.Equal([CommitResult.VersionConflict, CommitResult.Committed], await racing.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        // The loser wrote nothing; the other change of its batch went in whole.
        Assert.Empty((await Store.ListEventsAsync(m, "po-r", 100, null)).Data);
        Assert.Single((await Store.ListEventsAsync(m, "po-s", 100, null)).Data);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM notifications"));
        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM entities"));
    }

    [Fact]
    public async Task DisablingAnEndpoint_CaughtInALockCycleWithAnOutcome_IsWrittenAgain_AndItsCallerSeesNoDeadlock()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po-1", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po-2", 1, "OPENED", ep.Id, T0));
        var deadlocksBefore = await DeadlocksAsync();
        // An outcome's transaction holds the newer notification; the disable parks the endpoint's
        // pending work from the older one up, so it takes the older one and waits for the newer.
        // Then the outcome's transaction wants the older one too: a lock cycle, which the server
        // breaks by undoing the disable (it waited first, so it finds the cycle first; the outcome
        // here looks for a cycle only long after, so that a busy machine, which may run the
        // disable's check late, cannot make the outcome the one undone).
        const string Newer = "SELECT id FROM notifications ORDER BY ctid DESC LIMIT 1";
        const string Older = "SELECT id FROM notifications ORDER BY ctid LIMIT 1";
        await using (var outcome = await OpenTransactionAsync($"SET LOCAL deadlock_timeout = '60s'; UPDATE notifications SET attempt_count = 1 WHERE id = ({Newer})"))
        {
            var disable = Store.DisableEndpointAsync(ep.Id, "nothing but failures", T0);
            await WaitForLockWaitersAsync(1);
            await outcome.ExecuteAsync($"UPDATE notifications SET attempt_count = 1 WHERE id = ({Older})");
            await outcome.CommitAsync();

            Assert.True(await disable.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        var endpoint = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.False(endpoint.Enabled);
        Assert.Equal("nothing but failures", endpoint.DisabledReason);
        var pending = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Pending });
        Assert.Equal(2, pending.Data.Count);
        Assert.All(pending.Data, n => Assert.Null(n.NextAttemptAt));
        await AssertADeadlockSinceAsync(deadlocksBefore, "the disable and the outcome never waited on each other");
    }

    [Fact]
    public async Task AnEndpointPausedOnAnotherNodeWhileItsWorkIsUnparked_KeepsItsWorkParked()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po-1", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po-2", 1, "OPENED", ep.Id, T0));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = false }));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true }));
        // Resumed, then paused again on another node before this one's workers unparked the work:
        // the pause has written the endpoint (its work still parked, it parked nothing) and not
        // committed yet. An unpark that went by the endpoint as last committed would make the
        // work due once the pause commits, with nothing left to park it again.
        await using (var pause = await OpenTransactionAsync("UPDATE endpoints SET enabled = FALSE WHERE id = @id", new { id = ep.Id }))
        {
            var unpark = Store.UnparkAsync(T0 + TimeSpan.FromMinutes(1), 10);
            await Task.WhenAny(unpark, WaitForLockWaitersAsync(1));
            await pause.CommitAsync();
            await unpark.WaitAsync(TimeSpan.FromSeconds(30));
        }
        var pending = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Pending });
        Assert.Equal(2, pending.Data.Count);
        Assert.All(pending.Data, n => Assert.Null(n.NextAttemptAt));
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromHours(1), Lease, 10));
    }

    [Fact]
    public async Task EraseWhileAnAttemptIsBeingRecorded_LeavesNoAttemptBehind()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        // An outcome's transaction, still open: the notification moved on, its attempt written.
        await using var recording = await OpenTransactionAsync("""
            UPDATE notifications SET status = 'succeeded', attempt_count = 1 WHERE id = @id;
            INSERT INTO attempts (id, notification_id, number, trigger, started_at, duration_ms, status_code, succeeded)
            VALUES ('att_erase_race', @id, 1, 'scheduled', 0, 12, 200, TRUE)
            """, new { id = claimed.Id });
        var erase = Store.EraseMerchantDataAsync(m);
        await WaitForLockWaitersAsync(1);
        await recording.CommitAsync();

        Assert.True(await erase);
        Assert.Empty((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM attempts"));
    }

    [Fact]
    public async Task EraseWhileAChangeIsBeingRecorded_LeavesNothingOfTheMerchantBehind()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        // A change's transaction, still open: its entity, event and notification written.
        await using var recording = await OpenTransactionAsync("""
            INSERT INTO entities SELECT (jsonb_populate_record(NULL::entities, to_jsonb(e) || '{"id":"po_race"}')).* FROM entities e WHERE merchant_id = @m LIMIT 1;
            INSERT INTO events SELECT (jsonb_populate_record(NULL::events, to_jsonb(v) || '{"id":"evt_race","entity_id":"po_race"}')).* FROM events v WHERE merchant_id = @m LIMIT 1;
            INSERT INTO notifications SELECT (jsonb_populate_record(NULL::notifications, to_jsonb(n) || '{"id":"ntf_race","event_id":"evt_race","entity_id":"po_race"}')).* FROM notifications n WHERE merchant_id = @m LIMIT 1
            """, new { m });
        var erase = Store.EraseMerchantDataAsync(m);
        await WaitForLockWaitersAsync(1);
        await recording.CommitAsync();

        Assert.True(await erase);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM notifications"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM events WHERE merchant_id <> 'mer_operator'"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM entities"));
    }

    [Fact]
    public async Task APreferenceMadeWhileItsSharedEndpointIsBeingDeleted_WaitsForTheDelete_AndMakesAnother()
    {
        const string Url = "https://merchant.example/orders";
        var m = await MerchantAsync();
        var shared = (await PreferenceAtAsync(m, Url)).Preference.EndpointId!;
        CheckoutPreference made;
        // The delete, on another node, has marked the endpoint deleted and not committed yet: it
        // waits for its secrets, which another session holds.
        await using (var hold = await OpenTransactionAsync("SELECT 1 FROM endpoint_secrets WHERE endpoint_id = @shared FOR UPDATE", new { shared }))
        {
            var delete = Store.DeleteEndpointAsync(m, shared, T0);
            await WaitForLockWaitersAsync(1);
            var create = PreferenceAtAsync(m, Url);
            await Task.WhenAny(create, WaitForLockWaitersAsync(2));
            await hold.RollbackAsync();

            Assert.True(await delete.WaitAsync(TimeSpan.FromSeconds(30)));
            made = (await create.WaitAsync(TimeSpan.FromSeconds(30))).Preference;
        }
        // Not the endpoint deleted under it, which would never notify its orders: one of its own.
        Assert.NotEqual(shared, made.EndpointId);
        Assert.NotNull(await Store.GetEndpointAsync(m, made.EndpointId!));
    }

    [Fact]
    public async Task ADeleteOfASharedEndpointAskedWhileAPreferenceJoinsIt_WaitsUntilThePreferenceIsMade()
    {
        const string Url = "https://merchant.example/orders";
        var m = await MerchantAsync();
        var shared = (await PreferenceAtAsync(m, Url)).Preference.EndpointId!;
        var preference = new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, Time), m, new JsonObject(), null, T0);
        var offered = TestEndpoints.New(m, T0, Time, Url, source: EndpointSources.CheckoutPreference) with { PreferenceId = preference.Id };
        bool deletedMeanwhile;
        // The create has found the shared endpoint and waits to write the preference: another
        // session is writing one of the same id, and gives up once the delete has been asked.
        await using (var hold = await OpenTransactionAsync(
            "INSERT INTO checkout_preferences (id, merchant_id, document, endpoint_id, created_at) VALUES (@id, @m, '{}', NULL, 0)", new { id = preference.Id, m }))
        {
            var create = Store.CreatePreferenceAsync(preference with { EndpointId = offered.Id }, offered);
            await WaitForLockWaitersAsync(1);
            var delete = Store.DeleteEndpointAsync(m, shared, T0);
            await Task.WhenAny(delete, WaitForLockWaitersAsync(2));
            deletedMeanwhile = delete.IsCompleted;
            await hold.RollbackAsync();

            Assert.NotNull(await create.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(await delete.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        // It joined the shared endpoint only if that one was still there when it was made (the
        // delete came after it), or else made one of its own.
        var joined = (await Store.GetPreferenceAsync(m, preference.Id))!.EndpointId!;
        if (joined == shared)
        {
            Assert.False(deletedMeanwhile, "the shared endpoint was deleted while a preference joined it");
        }
        else
        {
            Assert.NotNull(await Store.GetEndpointAsync(m, joined));
        }
    }

    [Fact]
    public async Task Release_HoldsItsRowsInTheOrderOfTheirIds_AsAnErasureDoes_SoTheTwoNeverWaitForEachOtherInACircle()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po2", 1, "OPENED", ep.Id, T0));
        var claimed = (await Store.ClaimDueAsync(T0, Lease, 10)).OrderBy(n => n.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(2, claimed.Count);
        // An erasure holds the first of the merchant's notifications, on its way to the second.
        await using var erasing = await OpenTransactionAsync("SELECT 1 FROM notifications WHERE id = @id FOR UPDATE", new { id = claimed[0].Id });
        // The claims handed back last first: held one by one in that order, the release would hold
        // the second while it waits for the first, and the erasure, going on to the second, would
        // wait for the release: a circle the server breaks by undoing one of them.
        var release = Store.ReleaseAsync([(claimed[1].Id, claimed[1].LeaseToken!), (claimed[0].Id, claimed[0].LeaseToken!)], T0);
        await WaitForLockWaitersAsync(1);

        // The release waits at the first, holding nothing yet: the erasure takes the second at once.
        Assert.Null(await Record.ExceptionAsync(() => erasing.ExecuteAsync($"SELECT 1 FROM notifications WHERE id = '{claimed[1].Id}' FOR UPDATE NOWAIT")));
        await erasing.CommitAsync();
        await release.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, (await Store.ClaimDueAsync(T0, Lease, 10)).Count);
    }

    [Fact]
    public void ADeadlockMetOnEveryTry_IsSaidAsTheDatabaseUndoingTheWrite_NotAsTheDatabaseOutOfReach()
    {
        var deadlock = new PostgresException("deadlock detected", "ERROR", "ERROR", PostgresErrorCodes.DeadlockDetected);
        Assert.Equal(DatabaseTrouble.Contended, Store.TroubleOf(new InvalidOperationException("wrapped", deadlock)));
        Assert.Equal("it undid this request's writes to break a lock cycle with another write", DatabaseTrouble.Contended.Reason());
    }

    [Fact]
    public async Task Unpark_OfRowsAnotherNodeUnparkedMeanwhile_CountsAndChangesNothing()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = false }));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true }));
        // Another node unparks the notification and has not committed yet.
        await using var unparking = await OpenTransactionAsync("UPDATE notifications SET next_attempt_at = 1 WHERE endpoint_id = @ep", new { ep = ep.Id });
        Assert.Equal(1, unparking.Rows);
        var unpark = Store.UnparkAsync(T0 + TimeSpan.FromMinutes(5), 10);
        await WaitForLockWaitersAsync(1);
        await unparking.CommitAsync();

        Assert.Equal(0, await unpark);
        Assert.Equal(1, await ScalarAsync("SELECT next_attempt_at FROM notifications"));
    }

    [Fact]
    public async Task AMigration_WaitsWhileAnotherNodeHoldsTheMigrationLock_ThenFindsWhatItLeft()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var other = new NpgsqlConnection(db.ConnectionString);
        await other.OpenAsync();
        // Another node is migrating: it holds the lock and has applied nothing yet.
        await other.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PostgresStore.MigrationLock });
        await using var store = new PostgresStore(db.ConnectionString);
        var migrating = store.MigrateAsync();

        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(migrating.IsCompleted, "the migration ran while another node held the lock");
        Assert.Equal(0L, await other.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));

        await other.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PostgresStore.MigrationLock });
        Assert.Contains("0013_entities_room_to_change.sql", await migrating.WaitAsync(TimeSpan.FromSeconds(60)));
        // And a node started after it finds nothing left to run.
        await using var later = new PostgresStore(db.ConnectionString);
        Assert.Empty(await later.MigrateAsync());
    }

    [Fact]
    public async Task ADeclinedTransactionWhoseDocumentWasItsSnapshot_ReadsDecined_AfterTheUpgrade()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var earlier = DeployChanges.To.PostgresqlDatabase(db.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(PostgresStore).Assembly, name => string.CompareOrdinal(name, "Herald.Storage.Postgres.Schema.0020") < 0)
            .LogToNowhere()
            .Build();
        Assert.True(earlier.PerformUpgrade().Successful);
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            // As the rename left it: the state DECINED, the row's document empty (its event's snapshot
            // stands for it), and that snapshot as it was sent.
            await connection.ExecuteAsync("""
                INSERT INTO merchants (id, name, created_at) VALUES ('mer_old', 'Old', 0);
                INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at)
                  VALUES ('transaction', 'tx-2', 'mer_old', 'DECINED', 1, NULL, '', 0, 0);
                INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot)
                  VALUES ('evt_0000000003', 'mer_old', 'transaction', 'tx-2', 'TRANSACTION.DECINED', NULL, 'DECINED', 1, 0, '{"internalId":"tx-2","status":"DECLINED"}');
                """);
        }

        await using var upgraded = new PostgresStore(db.ConnectionString);
        Assert.Equal(["0020_decined_documents.sql", "0021_api_key_scopes.sql", "0022_resends_under_way.sql", "0023_portal_links.sql", "0024_attempt_hours.sql", "0025_merchant_portal_sessions_ended.sql", "0026_attempt_hour_epochs.sql", "0027_write_checks.sql", "0028_parked_condition.sql"], await upgraded.MigrateAsync());
        var entity = (await upgraded.GetEntityAsync("mer_old", EntityKind.Transaction, "tx-2"))!;
        Assert.Equal("DECINED", entity.Document["status"]!.GetValue<string>());
        Assert.Equal("DECLINED", (await upgraded.GetEventAsync("mer_old", "evt_0000000003"))!.Snapshot["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task AttemptsWrittenBeforeTheyWereKeptByNotification_AreListedInOrder_AndNewOnesFollow()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var earlier = DeployChanges.To.PostgresqlDatabase(db.ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(PostgresStore).Assembly, name => string.CompareOrdinal(name, "Herald.Storage.Postgres.Schema.0012") < 0)
            .LogToNowhere()
            .Build();
        Assert.True(earlier.PerformUpgrade().Successful);
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            // A notification with two attempts, the second attempt's id the lower.
            await connection.ExecuteAsync($"""
                INSERT INTO merchants (id, name, created_at) VALUES ('mer_old', 'Old', 0);
                INSERT INTO endpoints (id, merchant_id, url, format, success_rule, retry_policy, timeout_seconds, source, created_at, updated_at)
                  VALUES ('ep_old', 'mer_old', 'https://example.com/hook', 'transaction', 'any_2xx', '{"{}"}', 10, 'api', 0, 0);
                INSERT INTO events (id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot)
                  VALUES ('evt_old', 'mer_old', 'transaction', 'tx-1', 'transaction.pending', NULL, 'PENDING', 1, 0, '{"{}"}');
                INSERT INTO notifications (id, merchant_id, event_id, endpoint_id, entity_kind, entity_id, event_type, status, payload, created_at)
                  VALUES ('ntf_old', 'mer_old', 'evt_old', 'ep_old', 'transaction', 'tx-1', 'transaction.pending', 'succeeded', '{"{}"}', 0);
                INSERT INTO attempts (id, notification_id, number, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt) VALUES
                  ('att_0000000002', 'ntf_old', 1, 'schedule', {T0.ToUnixTimeMilliseconds()}, 30, 500, FALSE, 'HTTP 500', 'boom'),
                  ('att_0000000001', 'ntf_old', 2, 'schedule', {T0.AddMinutes(1).ToUnixTimeMilliseconds()}, 12, 200, TRUE, NULL, NULL);
                """);
        }

        await using var upgraded = new PostgresStore(db.ConnectionString);
        Assert.Equal(["0012_attempts_by_notification.sql", "0013_entities_room_to_change.sql", "0014_admin_key.sql", "0015_decined.sql", "0016_portal_sessions_ended.sql", "0017_resends_only_failed.sql", "0018_endpoint_headers.sql", "0019_idempotency_keys_by_event.sql", "0020_decined_documents.sql", "0021_api_key_scopes.sql", "0022_resends_under_way.sql", "0023_portal_links.sql", "0024_attempt_hours.sql", "0025_merchant_portal_sessions_ended.sql", "0026_attempt_hour_epochs.sql", "0027_write_checks.sql", "0028_parked_condition.sql"], await upgraded.MigrateAsync());
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            Assert.Equal("PRIMARY KEY (notification_id, number, id)",
                await connection.ExecuteScalarAsync<string>("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'attempts_pkey'"));
            Assert.Equal(["attempts_pkey", "attempts_started"],
                await connection.QueryAsync<string>("SELECT indexname FROM pg_indexes WHERE tablename = 'attempts' ORDER BY indexname"));
        }
        var third = await AssertEarlierAttemptsListedAsync(upgraded);
        // The same attempt written twice is still refused, now by the new key.
        await Assert.ThrowsAnyAsync<PostgresException>(() => upgraded.RecordManualAttemptAsync(third));
    }

    /// <summary>Runs <paramref name="sql"/> in a transaction of another session and leaves it open: what it wrote or locked stays held until it ends.</summary>
    private async Task<OpenTransaction> OpenTransactionAsync(string sql, object? parameters = null)
    {
        var connection = new NpgsqlConnection(_db!.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        return new OpenTransaction(connection, transaction, await connection.ExecuteAsync(sql, parameters, transaction));
    }

    private sealed class OpenTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, int rows) : IAsyncDisposable
    {
        /// <summary>How many rows its statement changed.</summary>
        public int Rows { get; } = rows;

        public Task CommitAsync() => transaction.CommitAsync();

        /// <summary>Runs one more statement in the transaction.</summary>
        public Task<int> ExecuteAsync(string sql) => connection.ExecuteAsync(sql, transaction: transaction);

        public Task RollbackAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task WaitForLockWaitersAsync(int waiters)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") < waiters)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {waiters} writers waiting on a lock after 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Asserts the server undid a transaction to break a lock cycle since it counted <paramref name="before"/> (its count is published a moment later).</summary>
    private async Task AssertADeadlockSinceAsync(long before, string otherwise)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await DeadlocksAsync() == before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.True(await DeadlocksAsync() > before, otherwise);
    }

    private Task<long> DeadlocksAsync() => ScalarAsync("SELECT pg_stat_clear_snapshot(), deadlocks FROM pg_stat_database WHERE datname = current_database()", column: 1);

    [Fact]
    public async Task ADatabaseANewerHeraldMigrated_IsRefused_NamingWhatThisBuildDoesNotKnow()
    {
        Assert.Equal(1, await ScalarAsync("INSERT INTO schemaversions (scriptname, applied) VALUES ('Herald.Storage.Postgres.Schema.0998_later.sql', now()), ('Herald.Storage.Postgres.Schema.0999_later.sql', now()) RETURNING 1"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => _store!.MigrateAsync());
        Assert.Contains("it holds 2 migrations this build does not know (0998_later.sql, 0999_later.sql)", refused.Message, StringComparison.Ordinal);
    }

    protected override Task<long> CountAsync(string sql) => ScalarAsync(sql);

    protected override System.Data.Common.DbException DiskFullError() => new PostgresException("could not extend file", "ERROR", "ERROR", PostgresErrorCodes.DiskFull);

    protected override System.Data.Common.DbException ReadOnlyError() => new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", PostgresErrorCodes.ReadOnlySqlTransaction);

    protected override bool WriteCheckEndsDiskFull => false;

    private async Task<long> ScalarAsync(string sql, int column = 0)
    {
        await using var connection = new NpgsqlConnection(_db!.ConnectionString);
        await connection.OpenAsync();
        await using var reader = await new NpgsqlCommand(sql, connection).ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetInt64(column);
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
