using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Ids;
using Herald.Retry;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Storage.Relational;

namespace Herald.Storage.Tests.Compliance;

/// <summary>
/// What every store must do, written once against <see cref="IHeraldStore"/> and run against each
/// database by a subclass that supplies a fresh, migrated, empty store.
/// </summary>
public abstract class StoreComplianceTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Checks a store upgraded over a notification <c>ntf_old</c> with two attempts written by an
    /// earlier schema (the second attempt's id the lower): both are listed in order, and a third
    /// goes in after them. Answers the third.
    /// </summary>
    protected static async Task<Attempt> AssertEarlierAttemptsListedAsync(IHeraldStore upgraded)
    {
        Assert.Equal(
        [
            new Attempt("att_0000000002", "ntf_old", 1, AttemptTriggers.Schedule, T0, 30, 500, false, "HTTP 500", "boom"),
            new Attempt("att_0000000001", "ntf_old", 2, AttemptTriggers.Schedule, T0.AddMinutes(1), 12, 200, true, null, null),
        ], await upgraded.ListAttemptsAsync("ntf_old"));
        Assert.Empty(await upgraded.ListAttemptsAsync("ntf_other"));
        var third = new Attempt("att_0000000003", "ntf_old", 3, AttemptTriggers.Manual, T0.AddMinutes(3), 7, 200, true, null, null);
        await upgraded.RecordManualAttemptAsync(third);
        Assert.Equal(["att_0000000002", "att_0000000001", "att_0000000003"], (await upgraded.ListAttemptsAsync("ntf_old")).Select(a => a.Id));
        return third;
    }
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(90);

    protected IHeraldStore Store { get; private set; } = null!;

    protected abstract Task<IHeraldStore> CreateStoreAsync();

    protected abstract Task DestroyStoreAsync();

    /// <summary>Runs a query that answers one whole number against the store's own database.</summary>
    protected abstract Task<long> CountAsync(string sql);

    /// <summary>What this store's driver throws when the disk under the database is full.</summary>
    protected abstract System.Data.Common.DbException DiskFullError();

    /// <summary>The driver's error for a write refused as the database takes none.</summary>
    protected abstract System.Data.Common.DbException ReadOnlyError();

    /// <summary>Whether the readiness check's own write may end a full disk's trouble (SQLite, which sees the volume's room first).</summary>
    protected abstract bool WriteCheckEndsDiskFull { get; }

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public Task DisposeAsync() => DestroyStoreAsync();

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    protected static readonly TimeProvider Time = new Clock(T0);

    protected async Task<string> MerchantAsync(string name = "Acme")
    {
        var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, Time), name, T0);
        await Store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant.Id, Guid.NewGuid().ToString("N"), T0));
        return merchant.Id;
    }

    protected async Task<Endpoint> EndpointAsync(string merchantId, PayloadFormat format = PayloadFormat.Thin, bool ordered = false)
    {
        var endpoint = TestEndpoints.New(merchantId, T0, Time, format: format) with
        {
            Ordered = ordered,
            MaxConcurrency = ordered ? 3 : null,
            RateLimit = ordered ? 40 : null,
        };
        await Store.CreateEndpointAsync(endpoint);
        return endpoint;
    }

    protected static EntityChange Change(string merchantId, string entityId, int version, string state, string? endpointId, DateTimeOffset at,
        (string, string)? idempotency = null)
    {
        var doc = new JsonObject { ["id"] = entityId, ["status"] = state };
        var entity = new Entity(EntityKind.PaymentOrder, entityId, merchantId, state, version, null, doc, at, at);
        var evt = new EntityEvent(HeraldId.New(HeraldId.Event, new Clock(at)), merchantId, EntityKind.PaymentOrder, entityId,
            EventTypes.For(EntityKind.PaymentOrder, state), version == 1 ? null : "OPENED", state, version, at, doc);
        NewNotification[] notifications = endpointId is null ? [] : [new NewNotification(HeraldId.New(HeraldId.Notification, new Clock(at)), endpointId, $"{{\"id\":\"{evt.Id}\"}}")];
        return new EntityChange(entity, version - 1, evt, notifications, idempotency);
    }

    private static Attempt AttemptOf(ClaimedNotification n, bool ok, string trigger, DateTimeOffset at) =>
        new(HeraldId.New(HeraldId.Attempt, new Clock(at)), n.Id, n.AttemptCount + 1, trigger, at, 12, ok ? 200 : 500, ok, ok ? null : "HTTP 500", ok ? "ok" : "boom");

    [Fact]
    public async Task ApiKeys_CreatedAtOnce_NeverPassTheBound()
    {
        var merchant = await MerchantAsync();
        // The merchant's first key counts: 24 more fit under a bound of 25, whatever the race.
        var created = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            Store.CreateApiKeyAsync(new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, Guid.NewGuid().ToString("N"), T0), 25))));
        Assert.Equal(24, created.Count(c => c));
        var keys = await Store.ListApiKeysPageAsync(merchant, 100, null, null);
        Assert.Equal(25, keys.Data.Count(k => k.RevokedAt is null));
        Assert.False(keys.HasMore);
        // Read a page at a time, newest first, both ways.
        var first = await Store.ListApiKeysPageAsync(merchant, 10, null, null);
        Assert.True(first.HasMore);
        Assert.Equal(keys.Data.Take(10).Select(k => k.Id), first.Data.Select(k => k.Id));
        var second = await Store.ListApiKeysPageAsync(merchant, 10, first.Data[^1].Id, null);
        Assert.Equal(keys.Data.Skip(10).Take(10).Select(k => k.Id), second.Data.Select(k => k.Id));
        Assert.Equal(first.Data.Select(k => k.Id), (await Store.ListApiKeysPageAsync(merchant, 10, null, second.Data[0].Id)).Data.Select(k => k.Id));
        // Once one is revoked, one more fits.
        var some = keys.Data[0];
        Assert.True(await Store.RevokeApiKeyAsync(merchant, some.Id, T0));
        // One key read by its id, revoked or not, and only as its own merchant's.
        Assert.Equal(T0, (await Store.GetApiKeyAsync(merchant, some.Id))!.RevokedAt);
        Assert.Null(await Store.GetApiKeyAsync(await MerchantAsync(), some.Id));
        Assert.Null(await Store.GetApiKeyAsync(merchant, "key_none"));
        Assert.True(await Store.CreateApiKeyAsync(new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, Guid.NewGuid().ToString("N"), T0), 25));
        Assert.False(await Store.CreateApiKeyAsync(new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, Guid.NewGuid().ToString("N"), T0), 25));
    }

    [Fact]
    public async Task ApiKeys_KeepTheirScope_FullUnlessMadeRead()
    {
        var merchant = await MerchantAsync();
        var reader = new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, "hash_read_" + Guid.NewGuid().ToString("N"), T0, Scope: ApiKeyScopes.Read);
        Assert.True(await Store.CreateApiKeyAsync(reader, 25));
        Assert.Equal(ApiKeyScopes.Read, (await UnrevokedKeyAsync(reader.KeyHash))!.Scope);
        Assert.Equal(merchant, (await UnrevokedKeyAsync(reader.KeyHash))!.MerchantId);
        Assert.Equal(ApiKeyScopes.Read, (await Store.GetApiKeyAsync(merchant, reader.Id))!.Scope);
        Assert.All((await Store.ListApiKeysPageAsync(merchant, 100, null, null)).Data.Where(k => k.Id != reader.Id), k => Assert.Equal(ApiKeyScopes.Full, k.Scope));
        Assert.True(await Store.RevokeApiKeyAsync(merchant, reader.Id, T0));
        Assert.Null(await UnrevokedKeyAsync(reader.KeyHash));
    }

    /// <summary>The unrevoked key with this hash, as authentication takes it, or null.</summary>
    private async Task<ApiKey?> UnrevokedKeyAsync(string keyHash) =>
        (await Store.FindApiKeysByHashAsync([keyHash])).SingleOrDefault(k => k.RevokedAt is null);

    [Fact]
    public async Task ApiKeys_FoundByAnyOfSeveralHashes_InOneLookUp_RevokedOnesSaySo()
    {
        var merchant = await MerchantAsync();
        var full = new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, "hash_full_" + Guid.NewGuid().ToString("N"), T0);
        var reader = new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant, "hash_read_" + Guid.NewGuid().ToString("N"), T0, Scope: ApiKeyScopes.Read);
        Assert.True(await Store.CreateApiKeyAsync(full, 25));
        Assert.True(await Store.CreateApiKeyAsync(reader, 25));
        var both = await Store.FindApiKeysByHashAsync([full.KeyHash, reader.KeyHash, "hash_none"]);
        Assert.Equal(new[] { full.Id, reader.Id }.Order(StringComparer.Ordinal), both.Select(k => k.Id).Order(StringComparer.Ordinal));
        Assert.All(both, k => Assert.Null(k.RevokedAt));
        Assert.True(await Store.RevokeApiKeyAsync(merchant, full.Id, T0));
        var after = await Store.FindApiKeysByHashAsync([full.KeyHash, reader.KeyHash]);
        Assert.Equal(T0, after.Single(k => k.Id == full.Id).RevokedAt);
        Assert.Equal((ApiKeyScopes.Read, null), after.Single(k => k.Id == reader.Id) is var r ? (r.Scope, r.RevokedAt) : default);
        Assert.Empty(await Store.FindApiKeysByHashAsync(["hash_none"]));
    }

    [Fact]
    public async Task APageOfLargeEvents_EndsWhereItsSnapshotsWouldPassTheByteBudget_AndThePagesAfterItGiveEveryEventOnce()
    {
        var m = await MerchantAsync();
        // Twenty events of about 250 kB: a page of 100 would carry 5 MB, over the 4 MiB budget.
        for (var i = 0; i < 20; i++)
        {
            var change = Change(m, $"big{i:D2}", 1, "OPENED", null, T0.AddMilliseconds(i));
            var doc = new JsonObject { ["id"] = $"big{i:D2}", ["status"] = "OPENED", ["note"] = new string('x', 250_000) };
            await Store.CommitChangeAsync(change with { Event = change.Event with { Snapshot = doc } });
        }
        await Store.CommitChangeAsync(Change(m, "small", 1, "OPENED", null, T0.AddSeconds(1)));

        var first = await Store.ListEventsAsync(m, null, 100, null);
        // The newest events up to 4 MiB: the small one and sixteen large ones.
        Assert.True(first.HasMore);
        Assert.Equal(17, first.Data.Count);
        Assert.True(first.Data.Sum(e => e.Snapshot.ToJsonString().Length) <= RelationalStore.PageBytes);
        var seen = first.Data.Select(e => e.Id).ToList();
        var page = first;
        while (page.HasMore)
        {
            page = await Store.ListEventsAsync(m, null, 100, page.Data[^1].Id);
            seen.AddRange(page.Data.Select(e => e.Id));
        }
        Assert.Equal(21, seen.Count);
        Assert.Equal(21, seen.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(seen.OrderDescending(StringComparer.Ordinal), seen);

        // Read back towards the newest from the oldest: the page nearest the cursor, in the same order.
        var oldest = seen[^1];
        var back = await Store.ListEventsAsync(m, null, 100, null, oldest);
        Assert.True(back.HasMore);
        Assert.Equal(seen[^(back.Data.Count + 1)..^1], back.Data.Select(e => e.Id));
        // Small events fill a page as before.
        var one = await Store.ListEventsAsync(m, "small", 100, null);
        Assert.False(one.HasMore);
        Assert.Single(one.Data);
    }

    [Fact]
    public async Task CommitChanges_InOneBatch_LeaveOutOnlyTheChangesThatConflict()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po0", 1, "OPENED", null, T0));
        var results = await Store.CommitChangesAsync([
            // Born already, before the batch: loses.
            Change(m, "po0", 1, "OPENED", ep.Id, T0),
            Change(m, "po1", 1, "OPENED", ep.Id, T0),
            // The same entity born twice in one batch: the second loses.
            Change(m, "po1", 1, "OPENED", ep.Id, T0),
            Change(m, "po2", 1, "OPENED", ep.Id, T0, ("key-1", "hash-a")),
            // Another change under an idempotency key the batch already took: left out entirely.
            Change(m, "po3", 1, "OPENED", ep.Id, T0, ("key-1", "hash-b")),
            Change(m, "po4", 1, "OPENED", null, T0),
        ]);
        Assert.Equal([CommitResult.VersionConflict, CommitResult.Committed, CommitResult.VersionConflict, CommitResult.Committed, CommitResult.IdempotencyKeyTaken, CommitResult.Committed], results);
        Assert.Single((await Store.ListEventsAsync(m, "po0", 100, null)).Data);
        Assert.NotNull(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po2"));
        Assert.Null(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po3"));
        Assert.NotNull(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po4"));
        Assert.Single((await Store.ListEventsAsync(m, "po1", 100, null)).Data);
        Assert.Empty((await Store.ListEventsAsync(m, "po3", 100, null)).Data);
        // One notification per committed change that had an endpoint.
        Assert.Equal(2, (await Store.ClaimDueAsync(T0, Lease, 10)).Count);
    }

    [Fact]
    public async Task UpdatesInOneBatch_TakeOnlyAtTheVersionTheyExpect_TwoOfOneEntityInTurn()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        foreach (var id in new[] { "po1", "po2", "po3" })
        {
            await Store.CommitChangeAsync(Change(m, id, 1, "OPENED", null, T0));
        }
        var results = await Store.CommitChangesAsync([
            Change(m, "po1", 2, "CLOSED", ep.Id, T0),
            // Decided from a version po2 never reached.
            Change(m, "po2", 3, "EXPIRED", ep.Id, T0),
            // Two writers that both decided from po3's version 1: the first one in the batch wins.
            Change(m, "po3", 2, "CLOSED", ep.Id, T0),
            Change(m, "po3", 2, "EXPIRED", ep.Id, T0),
            Change(m, "po4", 1, "OPENED", ep.Id, T0),
        ]);
        Assert.Equal([CommitResult.Committed, CommitResult.VersionConflict, CommitResult.Committed, CommitResult.VersionConflict, CommitResult.Committed], results);
        var po1 = (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po1"))!;
        Assert.Equal(("CLOSED", 2L), (po1.State, (long)po1.Version));
        Assert.Equal("OPENED", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po2"))!.State);
        Assert.Equal("CLOSED", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po3"))!.State);
        Assert.Equal(2, (await Store.ListEventsAsync(m, "po1", 100, null)).Data.Count);
        Assert.Single((await Store.ListEventsAsync(m, "po2", 100, null)).Data);
        Assert.Equal(2, (await Store.ListEventsAsync(m, "po3", 100, null)).Data.Count);
        // One notification per committed change: po1, po3 and po4.
        Assert.Equal(3, (await Store.ClaimDueAsync(T0, Lease, 10)).Count);
    }

    [Fact]
    public async Task TextBeyondAscii_AndEmptyText_AreKeptAsWritten()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var change = Change(m, "po-é", 1, "OPENED", ep.Id, T0);
        change.Entity.Document["payer"] = "Zoë Łukasiewicz 支付 💳";
        change.Entity.Document["note"] = "";
        // Longer than what is encoded on the stack.
        change.Entity.Document["memo"] = string.Concat(Enumerable.Repeat("Überweisung für Zoë — ", 40));
        // A payload that is the event's snapshot is kept once (an empty text in its place).
        var payload = change.SnapshotJson();
        change = change with { Notifications = [change.Notifications[0] with { Payload = payload }] };

        var (changes, _) = await Store.WriteBatchAsync([change], [], null, default);

        Assert.Equal([CommitResult.Committed], changes);
        var entity = await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po-é");
        Assert.Equal("Zoë Łukasiewicz 支付 💳", (string?)entity!.Document["payer"]);
        Assert.Equal("", (string?)entity.Document["note"]);
        Assert.Equal(string.Concat(Enumerable.Repeat("Überweisung für Zoë — ", 40)), (string?)entity.Document["memo"]);
        Assert.Equal(payload, (await Store.GetNotificationAsync(m, change.Notifications[0].Id))!.Payload);
        Assert.Equal("Zoë Łukasiewicz 支付 💳", (string?)(await Store.GetEventAsync(m, change.Event.Id))!.Snapshot["payer"]);
    }

    [Fact]
    public async Task CommitChange_WritesEntityEventAndNotificationsTogether()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var change = Change(m, "po1", 1, "OPENED", ep.Id, T0);
        Assert.Equal(CommitResult.Committed, await Store.CommitChangeAsync(change));

        Assert.Equal("OPENED", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po1"))!.State);
        Assert.Equal(change.Event.Type, (await Store.GetEventAsync(m, change.Event.Id))!.Type);
        var notification = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Equal(NotificationStatuses.Pending, notification.Status);
        Assert.Equal(change.Notifications[0].Payload, (await Store.GetNotificationAsync(m, notification.Id))!.Payload);
    }

    [Fact]
    public async Task APayloadThatIsItsEventsSnapshot_IsStoredOnce_AndReadBackWholeEverywhere()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m, PayloadFormat.Transaction);
        var same = Change(m, "po1", 1, "OPENED", ep.Id, T0);
        same = same with { Notifications = [same.Notifications[0] with { Payload = same.Event.Snapshot.ToJsonString() }] };
        var own = Change(m, "po2", 1, "OPENED", ep.Id, T0);
        Assert.All(await Store.CommitChangesAsync([same, own]), r => Assert.Equal(CommitResult.Committed, r));

        // The snapshot's copy is not written again; the other payload is.
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM notifications WHERE payload = ''"));
        var expected = new Dictionary<string, string>
        {
            [same.Notifications[0].Id] = same.Notifications[0].Payload,
            [own.Notifications[0].Id] = own.Notifications[0].Payload,
        };
        Assert.NotEqual(expected[same.Notifications[0].Id], expected[own.Notifications[0].Id]);
        foreach (var (id, payload) in expected)
        {
            Assert.Equal(payload, (await Store.GetNotificationAsync(m, id))!.Payload);
            Assert.Equal(payload, (await Store.LoadForResendAsync(m, id, T0))!.Payload);
        }
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(2, claimed.Count);
        Assert.All(claimed, c => Assert.Equal(expected[c.Id], c.Payload));
    }

    [Fact]
    public async Task AnEntitysDocument_IsKeptOnceWithItsLatestEvent_AndReadBackWhole_AfterEachChange()
    {
        var m = await MerchantAsync();
        var created = Change(m, "po1", 1, "OPENED", null, T0);
        var keyed = Change(m, "po2", 1, "OPENED", null, T0, ("key-1", "hash-1"));
        // An event whose snapshot is not the document given to the entity: the entity keeps its own.
        var own = Change(m, "po3", 1, "OPENED", null, T0);
        own = own with { Entity = own.Entity with { Document = new System.Text.Json.Nodes.JsonObject { ["id"] = "po3", ["note"] = "kept" } } };
        Assert.All(await Store.CommitChangesAsync([created, keyed, own]), r => Assert.Equal(CommitResult.Committed, r));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM entities WHERE document = ''"));
        Assert.Equal("""{"id":"po1","status":"OPENED"}""", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po1"))!.Document.ToJsonString());
        Assert.Equal("""{"id":"po2","status":"OPENED"}""", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po2"))!.Document.ToJsonString());
        Assert.Equal("""{"id":"po3","note":"kept"}""", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po3"))!.Document.ToJsonString());

        // Changed, in a batch and on its own: the document read is the new version's, not the first.
        Assert.All(await Store.CommitChangesAsync([Change(m, "po1", 2, "CLOSED", null, T0), Change(m, "po2", 2, "CLOSED", null, T0, ("key-2", "hash-2"))]),
            r => Assert.Equal(CommitResult.Committed, r));
        foreach (var id in new[] { "po1", "po2" })
        {
            var entity = (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, id))!;
            Assert.Equal(2, entity.Version);
            Assert.Equal($$"""{"id":"{{id}}","status":"CLOSED"}""", entity.Document.ToJsonString());
        }
    }

    [Fact]
    public async Task CommitChange_WithStaleVersion_IsAConflictAndWritesNothing()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        Assert.Equal(CommitResult.Committed, await Store.CommitChangeAsync(Change(m, "po1", 2, "CLOSED", ep.Id, T0)));
        // A second writer that also decided from version 1.
        Assert.Equal(CommitResult.VersionConflict, await Store.CommitChangeAsync(Change(m, "po1", 2, "EXPIRED", ep.Id, T0)));
        // The same id created twice.
        Assert.Equal(CommitResult.VersionConflict, await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0)));

        Assert.Equal("CLOSED", (await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po1"))!.State);
        Assert.Equal(2, (await Store.ListEventsAsync(m, "po1", 100, null)).Data.Count);
        Assert.Equal(2, (await Store.ListNotificationsAsync(m, new NotificationQuery())).Data.Count);
    }

    [Fact]
    public async Task IdempotencyKey_UsedTwice_IsTakenAndWritesNothing()
    {
        var m = await MerchantAsync();
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", null, T0));
        var first = Change(m, "po1", 2, "CLOSED", null, T0, ("key-1", "hash-a"));
        Assert.Equal(CommitResult.Committed, await Store.CommitChangeAsync(first));
        await Store.CommitChangeAsync(Change(m, "po1", 3, "REFUNDED", null, T0));
        Assert.Equal(CommitResult.IdempotencyKeyTaken, await Store.CommitChangeAsync(Change(m, "po1", 4, "REFUNDED", null, T0, ("key-1", "hash-b"))));
        Assert.Equal((first.Event.Id, "hash-a"), await Store.FindIdempotencyKeyAsync(m, "key-1"));
        Assert.Equal(3, (await Store.ListEventsAsync(m, "po1", 100, null)).Data.Count);
    }

    [Fact]
    public async Task IdempotencyKey_TakenByCreationsAtOnce_LetsOneIn_AndTheOthersWriteNothing()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        // Retries of one create, each with the new entity id its attempt made, committed at once.
        var changes = Enumerable.Range(0, 8).Select(i => Change(m, $"po{i}", 1, "OPENED", ep.Id, T0, ("create-1", "hash-a"))).ToList();
        var results = await Task.WhenAll(changes.Select(c => Task.Run(() => Store.CommitChangeAsync(c))));
        var taken = Assert.Single(Enumerable.Range(0, changes.Count), i => results[i] == CommitResult.Committed);
        Assert.All(results.Where((_, i) => i != taken), r => Assert.Equal(CommitResult.IdempotencyKeyTaken, r));
        Assert.Equal((changes[taken].Event.Id, "hash-a"), await Store.FindIdempotencyKeyAsync(m, "create-1"));
        for (var i = 0; i < changes.Count; i++)
        {
            Assert.Equal(i == taken, await Store.GetEntityAsync(m, EntityKind.PaymentOrder, $"po{i}") is not null);
        }
        Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
    }

    [Fact]
    public async Task Claim_TakesDueWork_HidesItForTheLease_AndGivesItBackWhenTheLeaseEnds()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        for (var i = 0; i < 5; i++)
        {
            await Store.CommitChangeAsync(Change(m, $"po{i}", 1, "OPENED", ep.Id, T0));
        }

        var first = await Store.ClaimDueAsync(T0, Lease, 3);
        Assert.Equal(3, first.Count);
        var claimed = first[0];
        Assert.Equal(ep.Url, claimed.Url);
        Assert.Equal(ep.Secrets, claimed.Secrets);
        Assert.Equal(PayloadFormat.Thin, claimed.Format);
        Assert.Equal(7, claimed.TimeoutSeconds);
        Assert.StartsWith("{\"id\":\"evt_", claimed.Payload, StringComparison.Ordinal);
        Assert.NotNull(claimed.LeaseToken);

        Assert.Equal(2, (await Store.ClaimDueAsync(T0, Lease, 10)).Count);
        Assert.Empty(await Store.ClaimDueAsync(T0 + Lease - TimeSpan.FromSeconds(1), Lease, 10));
        // The worker died: once the lease ends, all five are due again.
        Assert.Equal(5, (await Store.ClaimDueAsync(T0 + Lease, Lease, 10)).Count);
    }

    [Fact]
    public async Task Claim_SkipsDisabledEndpoints_AndFutureWork()
    {
        var m = await MerchantAsync();
        var on = await EndpointAsync(m);
        var off = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", on.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b", 1, "OPENED", off.Id, T0));
        await Store.CommitChangeAsync(Change(m, "c", 1, "OPENED", on.Id, T0 + TimeSpan.FromMinutes(1)));
        Assert.True(await Store.UpdateEndpointAsync(off with { Enabled = false }));

        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Equal(on.Id, claimed.EndpointId);
    }

    [Fact]
    public async Task DisabledEndpoint_ParksItsPendingWork_AndUnparkingAfterEnableMakesItDue()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = false }));
        // Recorded while the endpoint is off: written parked.
        var later = Change(m, "b", 1, "OPENED", null, T0) with
        {
            Notifications = [new NewNotification(HeraldId.New(HeraldId.Notification, Time), ep.Id, "{}", Parked: true)],
        };
        Assert.Equal(CommitResult.Committed, await Store.CommitChangeAsync(later));

        var pending = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Pending });
        Assert.Equal(2, pending.Data.Count);
        Assert.All(pending.Data, n => Assert.Null(n.NextAttemptAt));
        // Nothing to unpark while the endpoint stays off, and nothing to claim.
        Assert.Equal(0, await Store.UnparkAsync(T0, 10));
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromHours(1), Lease, 10));

        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true }));
        var resumed = T0 + TimeSpan.FromMinutes(5);
        Assert.Equal(1, await Store.UnparkAsync(resumed, 1));
        Assert.Equal(1, await Store.UnparkAsync(resumed, 10));
        Assert.Equal(0, await Store.UnparkAsync(resumed, 10));
        pending = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Pending });
        Assert.All(pending.Data, n => Assert.Equal(resumed, n.NextAttemptAt));
        Assert.Equal(2, (await Store.ClaimDueAsync(resumed, Lease, 10)).Count);
    }

    [Fact]
    public async Task WorkInHand_WhenItsEndpointIsDisabled_IsParkedOnRelease_AndOnARetryOutcome()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b", 1, "OPENED", ep.Id, T0));
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(2, claimed.Count);
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = false }));

        // One handed back unsent, one failed and due for a retry: both wait parked, not due.
        await Store.ReleaseAsync([(claimed[0].Id, claimed[0].LeaseToken!)], T0);
        var failed = new Attempt(HeraldId.New(HeraldId.Attempt, Time), claimed[1].Id, 1, AttemptTriggers.Schedule, T0, 5, 500, false, "HTTP 500", null);
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(failed, NotificationStatuses.Pending, T0 + TimeSpan.FromMinutes(1), true, claimed[1].LeaseToken)));

        var pending = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Pending });
        Assert.Equal(2, pending.Data.Count);
        Assert.All(pending.Data, n => Assert.Null(n.NextAttemptAt));
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true }));
        Assert.Equal(2, await Store.UnparkAsync(T0 + TimeSpan.FromMinutes(2), 10));
        // Made due again, the failed one's retry schedule starts over.
        var due = await Store.ClaimDueAsync(T0 + TimeSpan.FromMinutes(2), Lease, 10);
        Assert.Equal(2, due.Count);
        Assert.All(due, n => Assert.Equal(0, n.Failures));
    }

    [Fact]
    public async Task ClaimsRefreshed_CarryTheirEndpointAsItStandsNow_AndLeaveOutThoseNoLongerTakingDeliveries()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var other = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b", 1, "OPENED", other.Id, T0));
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(2, claimed.Count);
        var onEp = claimed.Single(c => c.EndpointId == ep.Id);

        // A cap set since the claim is the one the refreshed claim carries; nothing else moves.
        Assert.True(await Store.UpdateEndpointAsync(ep with { MaxConcurrency = 3, UpdatedAt = T0 + TimeSpan.FromSeconds(1) }));
        var refreshed = Assert.Single(await Store.RefreshClaimsAsync([onEp], T0));
        Assert.Equal(3, refreshed.MaxConcurrency);
        Assert.Equal(onEp.LeaseToken, refreshed.LeaseToken);
        Assert.Equal(onEp.Payload, refreshed.Payload);
        Assert.Equal(onEp.AttemptCount, refreshed.AttemptCount);

        // Paused (disabled) or deleted: left out.
        var current = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.True(await Store.UpdateEndpointAsync(current with { Enabled = false, UpdatedAt = T0 + TimeSpan.FromSeconds(2) }));
        Assert.True(await Store.DeleteEndpointAsync(m, other.Id, T0 + TimeSpan.FromSeconds(2)));
        Assert.Empty(await Store.RefreshClaimsAsync(claimed, T0 + TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task EnabledAgain_AnEndpointForgetsSinceWhenItWasFailing()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        Assert.Equal(T0, await Store.MarkEndpointFailingAsync(ep.Id, T0));
        Assert.True(await Store.DisableEndpointAsync(ep.Id, "failing for days", T0 + TimeSpan.FromDays(5)));
        var resumedAt = T0 + TimeSpan.FromDays(6);
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true, UpdatedAt = resumedAt }));
        // Its first failure after the resume starts the count.
        Assert.Equal(resumedAt, await Store.MarkEndpointFailingAsync(ep.Id, resumedAt));
        // Saved while still enabled, it keeps counting from then.
        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = true, Description = "x", UpdatedAt = resumedAt + TimeSpan.FromHours(1) }));
        Assert.Equal(resumedAt, await Store.MarkEndpointFailingAsync(ep.Id, resumedAt + TimeSpan.FromHours(2)));
    }

    [Fact]
    public async Task AnEndpointWrittenSinceItWasRead_IsNotOverwritten()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var read = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.True(await Store.DisableEndpointAsync(ep.Id, "410 Gone", T0 + TimeSpan.FromMinutes(1)));
        Assert.False(await Store.UpdateEndpointAsync(read with { Description = "renamed", UpdatedAt = T0 + TimeSpan.FromMinutes(2) }, read.UpdatedAt));
        var now = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.False(now.Enabled);
        Assert.Equal("410 Gone", now.DisabledReason);
        Assert.NotEqual("renamed", now.Description);
        Assert.True(await Store.UpdateEndpointAsync(now with { Description = "renamed", UpdatedAt = T0 + TimeSpan.FromMinutes(3) }, now.UpdatedAt));
        Assert.Equal("renamed", (await Store.GetEndpointAsync(m, ep.Id))!.Description);
    }

    [Fact]
    public async Task AnEndpointDisabledInTheMillisecondItWasRead_IsNotOverwrittenEither()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var read = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.True(await Store.DisableEndpointAsync(ep.Id, "410 Gone", read.UpdatedAt));
        Assert.False(await Store.UpdateEndpointAsync(read with { Description = "renamed", UpdatedAt = read.UpdatedAt + TimeSpan.FromMilliseconds(1) }, read.UpdatedAt));
        var now = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.False(now.Enabled);
        Assert.Equal("410 Gone", now.DisabledReason);
    }

    [Fact]
    public async Task AutoDisable_ParksPendingWork_TooAndItStaysOutOfClaims()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        Assert.True(await Store.DisableEndpointAsync(ep.Id, "answered 410 Gone", T0));

        var parked = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Null(parked.NextAttemptAt);
        Assert.Equal(NotificationStatuses.Pending, parked.Status);
        Assert.Equal(0, await Store.UnparkAsync(T0, 10));
    }

    [Fact]
    public async Task WrittenUnderALease_ImmediateNotificationsAreHeld_AndLoadReadyToSend_UntilTheEndpointIsDisabled()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var queued = await EndpointAsync(m);
        var change = Change(m, "a", 1, "OPENED", null, T0);
        var handed = new NewNotification(HeraldId.New(HeraldId.Notification, Time), ep.Id, "{\"hi\":1}", Immediate: true);
        var plain = new NewNotification(HeraldId.New(HeraldId.Notification, Time), queued.Id, "{}");
        change = change with { Notifications = [handed, plain] };
        var lease = new NotificationLease("token-1", T0 + Lease);

        var (changes, _) = await Store.WriteBatchAsync([change], [], lease);
        Assert.Equal([CommitResult.Committed], changes);

        // Only the one written without the lease is left for a claim, until the lease ends.
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Equal(plain.Id, claimed.Id);
        var leased = new LeasedNotification(handed.Id, m, change.Event.Id, ep.Id, handed.Payload, T0, null, lease.Token, lease.Until);
        var ready = Assert.Single(await Store.LoadLeasedAsync([leased], T0));
        Assert.Equal(ep.Url, ready.Url);
        Assert.Equal(ep.Secrets, ready.Secrets);
        Assert.Equal("token-1", ready.LeaseToken);
        Assert.Equal(0, ready.AttemptCount);

        // Its outcome is recorded under the lease it was written with.
        var attempt = new Attempt(HeraldId.New(HeraldId.Attempt, Time), handed.Id, 1, AttemptTriggers.Schedule, T0, 5, 200, true, null, null);
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(attempt, NotificationStatuses.Succeeded, null, false, lease.Token)));
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, handed.Id))!.Status);

        Assert.True(await Store.UpdateEndpointAsync(ep with { Enabled = false }));
        Assert.Empty(await Store.LoadLeasedAsync([leased], T0));
    }

    [Fact]
    public async Task ABatchTheDatabaseRefuses_WritesNothingOfIt_AndTheNextBatchIsWritten()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var good = Change(m, "a", 1, "OPENED", null, T0) with { Notifications = [new NewNotification(HeraldId.New(HeraldId.Notification, Time), ep.Id, "{}")] };
        // A notification whose id is taken already: the database refuses the whole transaction.
        var bad = Change(m, "b", 1, "OPENED", null, T0) with { Notifications = [good.Notifications[0] with { Payload = "{\"again\":1}" }] };
        var attempt = new Attempt(HeraldId.New(HeraldId.Attempt, Time), good.Notifications[0].Id, 1, AttemptTriggers.Schedule, T0, 5, 200, true, null, null);

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.WriteBatchAsync([good, bad], []));

        Assert.Null(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "a"));
        Assert.Null(await Store.GetNotificationAsync(m, good.Notifications[0].Id));
        var (changes, _) = await Store.WriteBatchAsync([good], []);
        Assert.Equal([CommitResult.Committed], changes);
        Assert.NotNull(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "a"));
        // Not claimed, so an outcome under a made-up lease moves nothing, and says so.
        var (_, recorded) = await Store.WriteBatchAsync([], [new AttemptOutcome(attempt, NotificationStatuses.Succeeded, null, false, "no-such-lease")]);
        Assert.Equal([false], recorded);
        Assert.Equal(NotificationStatuses.Pending, (await Store.GetNotificationAsync(m, good.Notifications[0].Id))!.Status);
    }

    [Fact]
    public async Task HandedOverAndNeverSent_IsDueWhenItsLeaseEnds_AndShowsThatTime()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var handed = new NewNotification(HeraldId.New(HeraldId.Notification, Time), ep.Id, "{}", Immediate: true);
        var change = Change(m, "a", 1, "OPENED", null, T0) with { Notifications = [handed] };
        var lease = new NotificationLease("token-1", T0 + Lease);
        await Store.WriteBatchAsync([change], [], lease);

        // The node it was handed to died: nothing is recorded, and the lease's end is its next attempt.
        Assert.Equal(lease.Until, (await Store.GetNotificationAsync(m, handed.Id))!.NextAttemptAt);
        Assert.Empty(await Store.ClaimDueAsync(lease.Until - TimeSpan.FromSeconds(1), Lease, 10));
        var claimed = Assert.Single(await Store.ClaimDueAsync(lease.Until, Lease, 10));
        Assert.Equal(handed.Id, claimed.Id);
        Assert.NotEqual(lease.Token, claimed.LeaseToken);
    }

    [Fact]
    public async Task ScheduledAttempt_MovesTheNotificationOn_OnlyWhileTheLeaseIsHeld()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var stale = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        var current = Assert.Single(await Store.ClaimDueAsync(T0 + Lease, Lease, 10));

        var lost = new AttemptOutcome(AttemptOf(stale, true, AttemptTriggers.Schedule, T0 + Lease), NotificationStatuses.Succeeded, null, false, stale.LeaseToken);
        Assert.False(await Store.RecordScheduledAttemptAsync(lost));
        Assert.Empty(await Store.ListAttemptsAsync(stale.Id));

        var retryAt = T0 + Lease + TimeSpan.FromMinutes(5);
        var failed = new AttemptOutcome(AttemptOf(current, false, AttemptTriggers.Schedule, T0 + Lease), NotificationStatuses.Pending, retryAt, true, current.LeaseToken);
        Assert.True(await Store.RecordScheduledAttemptAsync(failed));
        var n = (await Store.GetNotificationAsync(m, current.Id))!;
        Assert.Equal(NotificationStatuses.Pending, n.Status);
        Assert.Equal(1, n.AttemptCount);
        Assert.Equal(500, n.LastStatusCode);
        Assert.Equal(retryAt, n.NextAttemptAt);

        Assert.Empty(await Store.ClaimDueAsync(retryAt - TimeSpan.FromSeconds(1), Lease, 10));
        var again = Assert.Single(await Store.ClaimDueAsync(retryAt, Lease, 10));
        Assert.Equal(1, again.Failures);
        var dead = new AttemptOutcome(AttemptOf(again, false, AttemptTriggers.Schedule, retryAt), NotificationStatuses.Dead, null, true, again.LeaseToken);
        Assert.True(await Store.RecordScheduledAttemptAsync(dead));
        Assert.Empty(await Store.ClaimDueAsync(retryAt + TimeSpan.FromDays(10), Lease, 10));

        var attempts = await Store.ListAttemptsAsync(current.Id);
        Assert.Equal([1, 2], attempts.Select(a => a.Number));
        Assert.All(attempts, a => Assert.Equal(AttemptTriggers.Schedule, a.Trigger));
        Assert.Equal("boom", attempts[0].ResponseExcerpt);
    }

    /// <summary>A merchant with one endpoint, and the two notifications of po1 and po2 claimed.</summary>
    private async Task<(string MerchantId, Endpoint Endpoint, IReadOnlyList<ClaimedNotification> Claimed)> TwoClaimedAsync()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po2", 1, "OPENED", ep.Id, T0));
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(2, claimed.Count);
        return (m, ep, claimed);
    }

    [Fact]
    public async Task ScheduledAttempts_InOneBatch_RecordEachWhoseLeaseIsStillHeld()
    {
        var (m, _, first) = await TwoClaimedAsync();
        // po1's lease runs out and another worker takes it; po2 is still ours.
        var stolen = first[0];
        await Store.ReleaseAsync([(stolen.Id, stolen.LeaseToken!)], T0);
        var taken = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));

        var recorded = await Store.RecordScheduledAttemptsAsync([
            new AttemptOutcome(AttemptOf(stolen, true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, stolen.LeaseToken),
            new AttemptOutcome(AttemptOf(first[1], true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, first[1].LeaseToken),
        ]);
        Assert.Equal([false, true], recorded);
        Assert.Empty(await Store.ListAttemptsAsync(stolen.Id));
        Assert.Equal(NotificationStatuses.Pending, (await Store.GetNotificationAsync(m, taken.Id))!.Status);
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, first[1].Id))!.Status);
        Assert.Single(await Store.ListAttemptsAsync(first[1].Id));
    }

    [Fact]
    public async Task ChangesAndAttempts_InOneBatch_CommitTogether_EachJudgedOnItsOwn()
    {
        var (m, ep, claimed) = await TwoClaimedAsync();

        var (changes, attempts) = await Store.WriteBatchAsync(
            [Change(m, "po3", 1, "OPENED", ep.Id, T0), Change(m, "po1", 1, "OPENED", ep.Id, T0)],
            [
                new AttemptOutcome(AttemptOf(claimed[0], true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed[0].LeaseToken),
                // A lease this worker no longer holds: nothing of it is written.
                new AttemptOutcome(AttemptOf(claimed[1], true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, "not-the-lease"),
            ]);
        Assert.Equal([CommitResult.Committed, CommitResult.VersionConflict], changes);
        Assert.Equal([true, false], attempts);
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, claimed[0].Id))!.Status);
        Assert.Single(await Store.ListAttemptsAsync(claimed[0].Id));
        Assert.Empty(await Store.ListAttemptsAsync(claimed[1].Id));
        // po3's notification is there to be claimed; po1 was not born twice.
        Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Single((await Store.ListEventsAsync(m, "po1", 100, null)).Data);
    }

    [Fact]
    public async Task AnOutcomeTheDatabaseRefuses_TakesTheChangesOfItsBatchWithIt()
    {
        var (m, ep, claimed) = await TwoClaimedAsync();
        var good = new AttemptOutcome(AttemptOf(claimed[0], true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed[0].LeaseToken);
        // An attempt without its trigger: the database refuses its row, after the batch's change was written.
        var refused = new AttemptOutcome(AttemptOf(claimed[1], true, null!, T0), NotificationStatuses.Succeeded, null, false, claimed[1].LeaseToken);

        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.WriteBatchAsync([Change(m, "po3", 1, "OPENED", ep.Id, T0)], [good, refused]));

        Assert.Null(await Store.GetEntityAsync(m, EntityKind.PaymentOrder, "po3"));
        Assert.Empty((await Store.ListEventsAsync(m, "po3", 100, null)).Data);
        foreach (var n in claimed)
        {
            Assert.Equal(NotificationStatuses.Pending, (await Store.GetNotificationAsync(m, n.Id))!.Status);
            Assert.Empty(await Store.ListAttemptsAsync(n.Id));
        }
        // The same batch without the refused outcome is written whole.
        var (changes, attempts) = await Store.WriteBatchAsync([Change(m, "po3", 1, "OPENED", ep.Id, T0)], [good]);
        Assert.Equal([CommitResult.Committed], changes);
        Assert.Equal([true], attempts);
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, claimed[0].Id))!.Status);
    }

    [Fact]
    public async Task Claim_OfOrderedEndpoint_WaitsWhileTheEntitysEarlierVersionIsPending()
    {
        var m = await MerchantAsync();
        var ordered = await EndpointAsync(m, ordered: true);
        var plain = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ordered.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po1", 2, "CLOSED", ordered.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po2", 1, "OPENED", plain.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po2", 2, "CLOSED", plain.Id, T0));

        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        // The unordered endpoint gets both versions at once; the ordered one only the first.
        Assert.Equal(2, claimed.Count(c => c.EndpointId == plain.Id));
        var v1 = Assert.Single(claimed, c => c.EndpointId == ordered.Id);
        Assert.Equal(3, v1.MaxConcurrency);
        Assert.Equal(40, v1.RateLimit);

        // A failed attempt keeps v1 pending: v2 still waits, even once due.
        var retryAt = T0 + TimeSpan.FromSeconds(5);
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(v1, false, AttemptTriggers.Schedule, T0), NotificationStatuses.Pending, retryAt, true, v1.LeaseToken)));
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromSeconds(1), Lease, 10));
        var retry = Assert.Single(await Store.ClaimDueAsync(retryAt, Lease, 10));
        Assert.Equal(v1.Id, retry.Id);
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(retry, true, AttemptTriggers.Schedule, retryAt), NotificationStatuses.Succeeded, null, false, retry.LeaseToken)));
        var v2 = Assert.Single(await Store.ClaimDueAsync(retryAt, Lease, 10));
        Assert.NotEqual(v1.Id, v2.Id);
        Assert.Equal(ordered.Id, v2.EndpointId);
    }

    [Fact]
    public async Task EndpointFailing_KeepsItsFirstFailure_UntilASuccess()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        Assert.Equal(T0, await Store.MarkEndpointFailingAsync(ep.Id, T0));
        Assert.Equal(T0, await Store.MarkEndpointFailingAsync(ep.Id, T0 + TimeSpan.FromDays(2)));
        await Store.MarkEndpointHealthyAsync(ep.Id);
        Assert.Equal(T0 + TimeSpan.FromDays(3), await Store.MarkEndpointFailingAsync(ep.Id, T0 + TimeSpan.FromDays(3)));

        Assert.True(await Store.DisableEndpointAsync(ep.Id, "nothing but failures", T0 + TimeSpan.FromDays(8)));
        Assert.False(await Store.DisableEndpointAsync(ep.Id, "again", T0 + TimeSpan.FromDays(9)));
        var disabled = (await Store.GetEndpointAsync(m, ep.Id))!;
        Assert.False(disabled.Enabled);
        Assert.Equal("nothing but failures", disabled.DisabledReason);
    }

    [Fact]
    public async Task OperatorEvent_IsRecordedWithOneNotificationPerOperatorEndpoint_AndClaimedLikeAnyOther()
    {
        var ops = TestEndpoints.New(OperatorEventTypes.OperatorMerchantId, T0, Time, "https://ops.example/herald", PayloadFormat.Operator, EndpointSources.Operator);
        await Store.CreateEndpointAsync(ops);
        var evt = new OperatorEvent(HeraldId.New(HeraldId.Event, Time), OperatorEventTypes.EndpointDisabled, T0, new JsonObject { ["endpoint_id"] = "ep_x" });
        await Store.RecordOperatorEventAsync(evt, [new NewNotification(HeraldId.New(HeraldId.Notification, Time), ops.Id, "{\"type\":\"endpoint.disabled\"}")]);

        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Equal(evt.Id, claimed.EventId);
        Assert.Equal(PayloadFormat.Operator, claimed.Format);
        Assert.Equal("{\"type\":\"endpoint.disabled\"}", claimed.Payload);

        // The operator's record is no merchant's data to erase.
        Assert.False(await Store.EraseMerchantDataAsync(OperatorEventTypes.OperatorMerchantId));
        Assert.NotNull(await Store.LoadForResendAsync(OperatorEventTypes.OperatorMerchantId, claimed.Id, T0));
    }

    [Fact]
    public async Task ManualAttempt_SucceedingRevivesADeadNotification_FailingLeavesStatusAlone()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, false, AttemptTriggers.Schedule, T0), NotificationStatuses.Dead, null, true, claimed.LeaseToken));

        var resend = (await Store.LoadForResendAsync(m, claimed.Id, T0))!;
        Assert.Equal(NotificationStatuses.Dead, resend.Status);
        Assert.Null(resend.LeaseToken);
        Assert.Null(await Store.LoadForResendAsync(await MerchantAsync("Other"), claimed.Id, T0));

        await Store.RecordManualAttemptAsync(AttemptOf(resend, false, AttemptTriggers.Manual, T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal(NotificationStatuses.Dead, (await Store.GetNotificationAsync(m, claimed.Id))!.Status);
        await Store.RecordManualAttemptAsync(AttemptOf(resend, true, AttemptTriggers.Manual, T0 + TimeSpan.FromMinutes(2)));
        var n = (await Store.GetNotificationAsync(m, claimed.Id))!;
        Assert.Equal(NotificationStatuses.Succeeded, n.Status);
        Assert.Equal(3, n.AttemptCount);
        await Store.RecordManualAttemptAsync(AttemptOf(resend, false, AttemptTriggers.Manual, T0 + TimeSpan.FromMinutes(3)));
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, claimed.Id))!.Status);
        Assert.Equal(["schedule", "manual", "manual", "manual"], (await Store.ListAttemptsAsync(claimed.Id)).Select(a => a.Trigger));
        // Succeeding again keeps when it first succeeded.
        await Store.RecordManualAttemptAsync(AttemptOf(resend, true, AttemptTriggers.Manual, T0 + TimeSpan.FromMinutes(4)));
        Assert.Equal(T0 + TimeSpan.FromMinutes(2), (await Store.GetNotificationAsync(m, claimed.Id))!.SucceededAt);
    }

    [Fact]
    public async Task ListingOnlyTheFailed_GivesTheDead_AndThePendingAfterAFailure()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var ids = new Dictionary<string, string>();
        foreach (var order in new[] { "ok", "dead", "retrying" })
        {
            var change = Change(m, order, 1, "OPENED", ep.Id, T0);
            ids[order] = change.Notifications[0].Id;
            await Store.CommitChangeAsync(change);
        }
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(3, claimed.Count);
        foreach (var c in claimed)
        {
            var (ok, status, next) = c.Id == ids["ok"] ? (true, NotificationStatuses.Succeeded, (DateTimeOffset?)null)
                : c.Id == ids["dead"] ? (false, NotificationStatuses.Dead, null)
                : (false, NotificationStatuses.Pending, T0 + TimeSpan.FromHours(1));
            await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(c, ok, AttemptTriggers.Schedule, T0), status, next, true, c.LeaseToken));
        }
        // One more, never tried yet: pending, but nothing of it failed.
        await Store.CommitChangeAsync(Change(m, "fresh", 1, "OPENED", ep.Id, T0 + TimeSpan.FromMinutes(1)));

        var failed = await Store.ListNotificationsAsync(m, new NotificationQuery { EndpointId = ep.Id, FailedOnly = true });
        Assert.Equal(new[] { ids["dead"], ids["retrying"] }.Order(StringComparer.Ordinal), failed.Data.Select(n => n.Id).Order(StringComparer.Ordinal));
        Assert.Equal(4, (await Store.ListNotificationsAsync(m, new NotificationQuery { EndpointId = ep.Id })).Data.Count);
    }

    [Fact]
    public async Task ListingByAStatusTheMerchantSeldomHas_PagesItsOwnNewestFirst_AcrossItsEndpoints()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        var first = await EndpointAsync(m);
        var second = await EndpointAsync(m);
        var theirs = await EndpointAsync(other);
        // Twelve notifications a minute apart, alternating endpoints; the other merchant's among them.
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var change = Change(m, $"po{i}", 1, "OPENED", (i % 2 == 0 ? first : second).Id, T0 + TimeSpan.FromMinutes(i));
            ids.Add(change.Notifications[0].Id);
            await Store.CommitChangeAsync(change);
        }
        await Store.CommitChangeAsync(Change(other, "theirs", 1, "OPENED", theirs.Id, T0 + TimeSpan.FromMinutes(5)));
        var dead = new[] { ids[1], ids[4], ids[7], ids[10] }.ToHashSet(StringComparer.Ordinal);
        foreach (var c in await Store.ClaimDueAsync(T0 + TimeSpan.FromHours(1), Lease, 20))
        {
            var ok = !dead.Contains(c.Id) && c.EndpointId != theirs.Id;
            await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(c, ok, AttemptTriggers.Schedule, T0),
                ok ? NotificationStatuses.Succeeded : NotificationStatuses.Dead, null, true, c.LeaseToken));
        }

        var page = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, Limit = 3 });
        Assert.Equal([ids[10], ids[7], ids[4]], page.Data.Select(n => n.Id));
        Assert.True(page.HasMore);
        var next = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, Limit = 3, StartingAfter = ids[4] });
        Assert.Equal([ids[1]], next.Data.Select(n => n.Id));
        Assert.False(next.HasMore);
        var back = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, Limit = 2, EndingBefore = ids[4] });
        Assert.Equal([ids[10], ids[7]], back.Data.Select(n => n.Id));
        var lately = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, Since = T0 + TimeSpan.FromMinutes(5) });
        Assert.Equal([ids[10], ids[7]], lately.Data.Select(n => n.Id));
        Assert.Equal(8, (await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Succeeded })).Data.Count);
        Assert.Single((await Store.ListNotificationsAsync(other, new NotificationQuery { Status = NotificationStatuses.Dead })).Data);

        // With an endpoint as well: that endpoint's alone, paged the same way; another merchant's endpoint lists nothing.
        var ofSecond = await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, EndpointId = second.Id, Limit = 1 });
        Assert.Equal([ids[7]], ofSecond.Data.Select(n => n.Id));
        Assert.True(ofSecond.HasMore);
        Assert.Equal([ids[1]], (await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, EndpointId = second.Id, StartingAfter = ids[7] })).Data.Select(n => n.Id));
        Assert.Equal([ids[7]], (await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, EndpointId = second.Id, EndingBefore = ids[1] })).Data.Select(n => n.Id));
        Assert.Equal([ids[10], ids[4]], (await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, EndpointId = first.Id })).Data.Select(n => n.Id));
        Assert.Equal(4, (await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Succeeded, EndpointId = second.Id })).Data.Count);
        Assert.Empty((await Store.ListNotificationsAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead, EndpointId = theirs.Id })).Data);
    }

    [Fact]
    public async Task ResendLease_WaitsForTheAttemptUnderWay_ThenKeepsScheduledClaimsOffUntilItsAttemptIsRecorded()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));

        // A scheduled attempt holds it: a manual one hears until when, and takes nothing.
        var busy = await Store.LeaseForResendAsync(m, claimed.Id, "manual-1", T0, T0 + Lease);
        Assert.Null(busy.Notification);
        Assert.Equal(T0 + Lease, busy.HeldUntil);

        // Once its outcome is in (failed, due again at once), the manual attempt takes it, as it is now.
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, false, AttemptTriggers.Schedule, T0), NotificationStatuses.Pending, T0, true, claimed.LeaseToken)));
        var leased = (await Store.LeaseForResendAsync(m, claimed.Id, "manual-1", T0, T0 + Lease)).Notification!;
        Assert.Equal("manual-1", leased.LeaseToken);
        Assert.Equal(1, leased.AttemptCount);
        Assert.Equal(ep.Url, leased.Url);

        // Meanwhile no worker claims it, and no second manual attempt takes it.
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromSeconds(1), Lease, 10));
        Assert.Equal(T0 + Lease, (await Store.LeaseForResendAsync(m, claimed.Id, "manual-2", T0, T0 + Lease)).HeldUntil);

        // Its attempt recorded (failed), the lease ends and the retry is due again as it was.
        await Store.RecordManualAttemptAsync(AttemptOf(leased, false, AttemptTriggers.Manual, T0 + TimeSpan.FromSeconds(1)), leased.LeaseToken);
        var again = Assert.Single(await Store.ClaimDueAsync(T0 + TimeSpan.FromSeconds(2), Lease, 10));
        Assert.Equal(2, again.AttemptCount);
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(again, true, AttemptTriggers.Schedule, T0 + TimeSpan.FromSeconds(2)), NotificationStatuses.Succeeded, null, false, again.LeaseToken)));

        // A lease let go unused frees it too; another merchant's, or a deleted endpoint's, is gone.
        var unused = (await Store.LeaseForResendAsync(m, claimed.Id, "manual-3", T0, T0 + Lease)).Notification!;
        Assert.Equal(NotificationStatuses.Succeeded, unused.Status);
        await Store.ReleaseResendLeaseAsync(claimed.Id, "manual-3");
        Assert.NotNull((await Store.LeaseForResendAsync(m, claimed.Id, "manual-4", T0, T0 + Lease)).Notification);
        Assert.Equal(ResendLease.Gone, await Store.LeaseForResendAsync(await MerchantAsync("Other"), claimed.Id, "manual-5", T0 + Lease, T0 + 2 * Lease));
        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, T0));
        Assert.Equal(ResendLease.Gone, await Store.LeaseForResendAsync(m, claimed.Id, "manual-6", T0 + Lease, T0 + 2 * Lease));
        Assert.Equal(["schedule", "manual", "schedule"], (await Store.ListAttemptsAsync(claimed.Id)).Select(a => a.Trigger));
    }

    [Fact]
    public async Task EndpointHeaders_AreKept_ReachEveryClaim_AndAreReplacedOrClearedByAnUpdate()
    {
        var m = await MerchantAsync();
        var endpoint = TestEndpoints.New(m, T0, Time) with { Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gw", ["X-Shop"] = "north" } };
        await Store.CreateEndpointAsync(endpoint);
        Assert.Equal(endpoint.Headers, (await Store.GetEndpointAsync(m, endpoint.Id))!.Headers);

        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", endpoint.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Equal(endpoint.Headers, claimed.Headers);

        var replaced = endpoint with { Headers = new Dictionary<string, string> { ["X-Other"] = "v" }, UpdatedAt = T0.AddSeconds(1) };
        Assert.True(await Store.UpdateEndpointAsync(replaced));
        Assert.Equal(replaced.Headers, (await Store.GetEndpointAsync(m, endpoint.Id))!.Headers);
        Assert.Equal(replaced.Headers, (await Store.LeaseForResendAsync(m, claimed.Id, "manual-1", T0 + Lease, T0 + 2 * Lease)).Notification!.Headers);
        Assert.True(await Store.UpdateEndpointAsync(replaced with { Headers = null, UpdatedAt = T0.AddSeconds(2) }));
        Assert.Null((await Store.GetEndpointAsync(m, endpoint.Id))!.Headers);
        Assert.Null(Assert.Single(await Store.ListEndpointsAsync(m)).Headers);
    }

    /// <summary>A merchant with one endpoint and one notification for it, due at <see cref="T0"/>.</summary>
    private async Task<(string MerchantId, string NotificationId)> OneNotificationAsync()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        return (m, (await Store.ListNotificationsAsync(m, new NotificationQuery())).Data[0].Id);
    }

    [Fact]
    public async Task ManualSuccess_UnderALeaseThatRanOut_IsNotUndoneByTheScheduledAttemptClaimedAfterIt()
    {
        var (m, id) = await OneNotificationAsync();
        var manual = (await Store.LeaseForResendAsync(m, id, "manual-1", T0, T0 + Lease)).Notification!;
        // The manual attempt outlives its lease: a worker claims the notification beside it.
        var scheduled = Assert.Single(await Store.ClaimDueAsync(T0 + Lease + TimeSpan.FromSeconds(1), Lease, 10));

        await Store.RecordManualAttemptAsync(AttemptOf(manual, true, AttemptTriggers.Manual, T0 + Lease + TimeSpan.FromSeconds(2)), manual.LeaseToken);
        Assert.False(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(scheduled, false, AttemptTriggers.Schedule, T0 + Lease + TimeSpan.FromSeconds(3)),
            NotificationStatuses.Pending, T0 + 3 * Lease, true, scheduled.LeaseToken)));
        Assert.Equal(NotificationStatuses.Succeeded, (await Store.GetNotificationAsync(m, id))!.Status);
    }

    [Fact]
    public async Task ResendLease_OfANotificationWhoseAttemptsComeAndGo_IsNeverTakenForGone()
    {
        var (m, id) = await OneNotificationAsync();
        var gone = 0;
        var leased = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        // A worker claiming and recording failed attempts of it over and over, beside manual leases
        // asked for over and over (each loop bounded by the time and a count).
        var worker = Task.Run(async () =>
        {
            for (var n = 0; n < 2_000 && !stop.IsCancellationRequested; n++)
            {
                foreach (var c in await Store.ClaimDueAsync(T0, Lease, 10))
                {
                    await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(c, false, AttemptTriggers.Schedule, T0), NotificationStatuses.Pending, T0, true, c.LeaseToken));
                }
            }
        });
        var resender = Task.Run(async () =>
        {
            for (var n = 0; n < 2_000 && !stop.IsCancellationRequested; n++)
            {
                var lease = await Store.LeaseForResendAsync(m, id, "manual-" + n, T0, T0 + Lease);
                if (lease == ResendLease.Gone)
                {
                    gone++;
                }
                else if (lease.Notification is { } taken)
                {
                    leased++;
                    await Store.ReleaseResendLeaseAsync(taken.Id, taken.LeaseToken!);
                }
            }
        });
        await Task.WhenAll(worker, resender);
        Assert.Equal(0, gone);
        Assert.True(leased > 0);
    }

    [Fact]
    public async Task OneMerchant_NeverSeesAnothersData()
    {
        var a = await MerchantAsync("A");
        var b = await MerchantAsync("B");
        var ep = await EndpointAsync(a);
        var change = Change(a, "po1", 1, "OPENED", ep.Id, T0);
        await Store.CommitChangeAsync(change);
        var notification = (await Store.ListNotificationsAsync(a, new NotificationQuery())).Data[0];
        await Store.CreatePreferenceAsync(new CheckoutPreference("pref_1", a, new JsonObject(), null, T0), null);

        Assert.Null(await Store.GetEndpointAsync(b, ep.Id));
        Assert.Empty(await Store.ListEndpointsAsync(b));
        Assert.Null(await Store.GetEntityAsync(b, EntityKind.PaymentOrder, "po1"));
        Assert.Null(await Store.GetEventAsync(b, change.Event.Id));
        Assert.Empty((await Store.ListEventsAsync(b, null, 10, null)).Data);
        Assert.Null(await Store.GetNotificationAsync(b, notification.Id));
        Assert.Empty((await Store.ListNotificationsAsync(b, new NotificationQuery())).Data);
        Assert.Null(await Store.GetPreferenceAsync(b, "pref_1"));
        Assert.False(await Store.DeleteEndpointAsync(b, ep.Id, T0));
        Assert.False(await Store.UpdateEndpointAsync(ep with { MerchantId = b, Url = "https://evil.example/" }));
        Assert.Equal(ep.Url, (await Store.GetEndpointAsync(a, ep.Id))!.Url);
    }

    [Fact]
    public async Task NotificationLog_FiltersAndPagesNewestFirst()
    {
        var m = await MerchantAsync();
        var ep1 = await EndpointAsync(m);
        var ep2 = await EndpointAsync(m);
        for (var i = 0; i < 7; i++)
        {
            await Store.CommitChangeAsync(Change(m, $"po{i}", 1, "OPENED", i % 2 == 0 ? ep1.Id : ep2.Id, T0 + TimeSpan.FromMinutes(i)));
        }
        var seen = new List<Notification>();
        string? cursor = null;
        Page<Notification> page;
        do
        {
            page = await Store.ListNotificationsAsync(m, new NotificationQuery { Limit = 3, StartingAfter = cursor });
            seen.AddRange(page.Data);
            cursor = page.Data.Count > 0 ? page.Data[^1].Id : null;
        }
        while (page.HasMore);
        Assert.Equal(7, seen.Count);
        Assert.Equal(7, seen.Select(n => n.Id).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(n => n.CreatedAt).Select(n => n.Id), seen.Select(n => n.Id));

        // And back from the oldest: the newer ones just before it, still newest first, then the rest.
        var back = await Store.ListNotificationsAsync(m, new NotificationQuery { Limit = 3, EndingBefore = seen[6].Id });
        Assert.Equal(seen.Skip(3).Take(3).Select(n => n.Id), back.Data.Select(n => n.Id));
        Assert.True(back.HasMore);
        var newest = await Store.ListNotificationsAsync(m, new NotificationQuery { Limit = 3, EndingBefore = back.Data[0].Id });
        Assert.Equal(seen.Take(3).Select(n => n.Id), newest.Data.Select(n => n.Id));
        Assert.False(newest.HasMore);
        Assert.Equal(seen.Take(2).Select(n => n.Id), (await Store.ListNotificationsAsync(m, new NotificationQuery { EndingBefore = seen[2].Id })).Data.Select(n => n.Id));

        Assert.Equal(4, (await Store.ListNotificationsAsync(m, new NotificationQuery { EndpointId = ep1.Id })).Data.Count);
        var po3 = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "po3" })).Data);
        Assert.Equal([po3.Id], (await Store.ListNotificationsAsync(m, new NotificationQuery { EventId = po3.EventId })).Data.Select(n => n.Id));
        Assert.Empty((await Store.ListNotificationsAsync(await MerchantAsync("Other"), new NotificationQuery { EventId = po3.EventId })).Data);
        Assert.Equal(7, (await Store.ListNotificationsAsync(m, new NotificationQuery { EventType = "PAYMENT_ORDER.OPENED", Status = "pending" })).Data.Count);
        Assert.Empty((await Store.ListNotificationsAsync(m, new NotificationQuery { Status = "dead" })).Data);
        var window = await Store.ListNotificationsAsync(m, new NotificationQuery { Since = T0 + TimeSpan.FromMinutes(2), Until = T0 + TimeSpan.FromMinutes(5) });
        Assert.Equal(["po4", "po3", "po2"], window.Data.Select(n => n.EntityId));
    }

    [Fact]
    public async Task ListingAWindow_TakesItsStartAndNotItsEnd_AsFarApartOrAsFarOutAsAsked()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var at = new[] { T0, T0 + TimeSpan.FromMilliseconds(1), T0 + TimeSpan.FromDays(3), T0 + TimeSpan.FromDays(30) };
        for (var i = 0; i < at.Length; i++)
        {
            await Store.CommitChangeAsync(Change(m, $"po{i}", 1, "OPENED", ep.Id, at[i]));
        }

        async Task<string[]> WindowAsync(DateTimeOffset? since, DateTimeOffset? until) =>
            (await Store.ListNotificationsAsync(m, new NotificationQuery { Since = since, Until = until, Limit = 100 })).Data.Select(n => n.EntityId).ToArray();

        Assert.Equal(["po1"], await WindowAsync(at[1], at[2]));
        Assert.Equal(["po0"], await WindowAsync(at[0], at[1]));
        Assert.Equal(["po2", "po1", "po0"], await WindowAsync(null, at[3]));
        Assert.Equal(["po3", "po2"], await WindowAsync(at[2], null));
        Assert.Equal(["po3"], await WindowAsync(at[3] - TimeSpan.FromMilliseconds(1), at[3] + TimeSpan.FromMilliseconds(1)));
        Assert.Empty(await WindowAsync(at[3] + TimeSpan.FromMilliseconds(1), null));
        Assert.Empty(await WindowAsync(null, at[0]));
        Assert.Equal(["po3", "po2", "po1", "po0"], await WindowAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue));
        Assert.Equal(["po3", "po2", "po1", "po0"], await WindowAsync(DateTimeOffset.MinValue, null));
        Assert.Equal(2, (await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { Since = at[1], Until = at[3] }))[NotificationStatuses.Pending]);
    }

    [Fact]
    public async Task EndpointsForRecording_SeeEveryEndpointChange_AtOnce()
    {
        // Recording asks for these on every change; whatever a store keeps in memory, an endpoint
        // added, changed, disabled or deleted shows in the very next answer.
        var m = await MerchantAsync();
        Assert.Empty(await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin));
        var ep = await EndpointAsync(m);
        Assert.Equal([ep.Id], (await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin)).Select(e => e.Id));

        Assert.True(await Store.UpdateEndpointAsync(ep with { EventTypes = ["payment_order.closed"], UpdatedAt = T0 }));
        Assert.Equal(["payment_order.closed"], Assert.Single(await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin)).EventTypes);

        Assert.True(await Store.DisableEndpointAsync(ep.Id, "paused", T0));
        Assert.False(Assert.Single(await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin)).Enabled);

        var preference = new CheckoutPreference("pref_1", m, new JsonObject(), null, T0);
        var fromPreference = ep with { Id = HeraldId.New(HeraldId.Endpoint, Time), Source = EndpointSources.CheckoutPreference, PreferenceId = "pref_1" };
        await Store.CreatePreferenceAsync(preference with { EndpointId = fromPreference.Id }, fromPreference);
        Assert.Equal(2, (await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin)).Count);

        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, T0));
        Assert.Equal([fromPreference.Id], (await Store.ListEndpointsForFormatAsync(m, PayloadFormat.Thin)).Select(e => e.Id));
    }

    [Fact]
    public async Task OwnEndpoints_NamedOnes_AndThosePreferencesMade_AreReadApart_WithoutDeletedOnesOrAnotherMerchants()
    {
        var m = await MerchantAsync();
        var own = await EndpointAsync(m, PayloadFormat.Transaction);
        var deleted = await EndpointAsync(m);
        Assert.True(await Store.DeleteEndpointAsync(m, deleted.Id, T0));
        var fromPreference = own with { Id = HeraldId.New(HeraldId.Endpoint, Time), Format = PayloadFormat.Thin, Source = EndpointSources.CheckoutPreference, PreferenceId = "pref_1" };
        await Store.CreatePreferenceAsync(new CheckoutPreference("pref_1", m, new JsonObject(), fromPreference.Id, T0), fromPreference);
        var theirs = await EndpointAsync(await MerchantAsync("Other"));

        var listed = Assert.Single(await Store.ListOwnEndpointsBareAsync(m));
        Assert.Equal(own.Id, listed.Id);
        Assert.Empty(listed.Secrets);
        var named = await Store.GetEndpointsBareAsync(m, [fromPreference.Id, deleted.Id, theirs.Id, own.Id, own.Id]);
        Assert.Equal(new[] { own.Id, fromPreference.Id }.Order(StringComparer.Ordinal), named.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Empty(await Store.GetEndpointsBareAsync(m, []));
        var ofPreferences = await Store.ListEndpointsPageAsync(m, 10, null, null, preferencesOnly: true);
        Assert.Equal([fromPreference.Id], ofPreferences.Data.Select(e => e.Id));
        Assert.Equal(2, (await Store.ListEndpointsPageAsync(m, 10, null, null)).Data.Count);
    }

    /// <summary>A preference of the merchant's made with a webhook at <paramref name="url"/>: the store decides which endpoint it is.</summary>
    protected async Task<(CheckoutPreference Preference, Endpoint Offered)> PreferenceAtAsync(string merchantId, string? url)
    {
        var preference = new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, Time), merchantId, new JsonObject(), null, T0);
        var offered = url is null ? null : TestEndpoints.New(merchantId, T0, Time, url, source: EndpointSources.CheckoutPreference) with { PreferenceId = preference.Id };
        await Store.CreatePreferenceAsync(preference with { EndpointId = offered?.Id }, offered);
        return ((await Store.GetPreferenceAsync(merchantId, preference.Id))!, offered!);
    }

    [Fact]
    public async Task PreferencesAtOneUrl_ShareTheEndpointThePreferenceThereMade_ButNotADeletedOne_TheMerchantsOwn_OrAnotherMerchants()
    {
        var m = await MerchantAsync();
        var own = TestEndpoints.New(m, T0, Time, "https://merchant.example/orders");
        await Store.CreateEndpointAsync(own);
        var (first, made) = await PreferenceAtAsync(m, "https://merchant.example/orders");
        // The merchant's own endpoint at the URL is not a preference's webhook: the first preference makes one.
        Assert.Equal(made.Id, first.EndpointId);
        Assert.NotEqual(own.Id, first.EndpointId);

        var (second, offered) = await PreferenceAtAsync(m, "https://merchant.example/orders");
        Assert.Equal(made.Id, second.EndpointId);
        // Nothing else written: the endpoint offered is not there, and the one shared keeps its secret.
        Assert.Null(await Store.GetEndpointAsync(m, offered.Id));
        Assert.Equal(made.Secrets, (await Store.GetEndpointAsync(m, made.Id))!.Secrets);
        var (elsewhere, _) = await PreferenceAtAsync(m, "https://merchant.example/other");
        Assert.NotEqual(made.Id, elsewhere.EndpointId);
        var (theirs, _) = await PreferenceAtAsync(await MerchantAsync("Other"), "https://merchant.example/orders");
        Assert.NotEqual(made.Id, theirs.EndpointId);
        Assert.Null((await PreferenceAtAsync(m, null)).Preference.EndpointId);

        // An endpoint is found at the URL it has now.
        Assert.True(await Store.UpdateEndpointAsync((await Store.GetEndpointAsync(m, made.Id))! with { Url = "https://merchant.example/moved" }));
        var (moved, _) = await PreferenceAtAsync(m, "https://merchant.example/moved");
        Assert.Equal(made.Id, moved.EndpointId);
        var (left, _) = await PreferenceAtAsync(m, "https://merchant.example/orders");
        Assert.NotEqual(made.Id, left.EndpointId);
        // A deleted one is not shared: the next preference at its URL makes another.
        Assert.True(await Store.DeleteEndpointAsync(m, left.EndpointId!, T0));
        var (after, _) = await PreferenceAtAsync(m, "https://merchant.example/orders");
        Assert.NotNull(after.EndpointId);
        Assert.NotEqual(left.EndpointId, after.EndpointId);
        Assert.Equal(new[] { made.Id, elsewhere.EndpointId, after.EndpointId }.Order(StringComparer.Ordinal),
            (await Store.ListEndpointsPageAsync(m, 10, null, null, preferencesOnly: true)).Data.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PreferencesMadeEachWithAnEndpointOfItsOwnAtOneUrl_KeepTheirOwn_AndTheNextSharesTheOldest()
    {
        // As an earlier release left them: one endpoint a preference, whatever its URL.
        var m = await MerchantAsync();
        var older = new List<(CheckoutPreference Preference, Endpoint Endpoint)>();
        for (var i = 0; i < 2; i++)
        {
            var preference = new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, Time), m, new JsonObject(), null, T0);
            var endpoint = TestEndpoints.New(m, T0, Time, "https://merchant.example/orders", source: EndpointSources.CheckoutPreference) with { PreferenceId = preference.Id };
            await Store.CreateEndpointAsync(endpoint);
            await Store.CreatePreferenceAsync(preference with { EndpointId = endpoint.Id }, null);
            older.Add((preference, endpoint));
        }
        Assert.Equal(older.Select(o => o.Endpoint.Id), await Task.WhenAll(older.Select(async o => (await Store.GetPreferenceAsync(m, o.Preference.Id))!.EndpointId)));

        var (next, _) = await PreferenceAtAsync(m, "https://merchant.example/orders");
        Assert.Equal(older[0].Endpoint.Id, next.EndpointId);
        Assert.Equal(2, (await Store.ListEndpointsPageAsync(m, 10, null, null, preferencesOnly: true)).Data.Count);
    }

    [Fact]
    public async Task PreferencesOfANewUrl_MadeAtOnce_MakeOneEndpoint()
    {
        var m = await MerchantAsync();
        var made = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => PreferenceAtAsync(m, "https://merchant.example/orders"))));
        var shared = Assert.Single(made.Select(p => p.Preference.EndpointId).Distinct());
        Assert.Equal([shared], (await Store.ListEndpointsPageAsync(m, 100, null, null, preferencesOnly: true)).Data.Select(e => e.Id));
        Assert.Equal(12, (await Store.ListPreferencesAsync(m, 100, null, null)).Data.Count);
    }

    [Fact]
    public async Task DeletingAnEndpoint_KillsItsPendingWork_AndKeepsHistory()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, T0));
        Assert.Empty(await Store.ListEndpointsAsync(m));
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromDays(1), Lease, 10));
        var n = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Equal(NotificationStatuses.Dead, n.Status);
        Assert.Equal("endpoint deleted", n.LastError);
    }

    [Fact]
    public async Task DeletingAnEndpoint_ErasesItsSecretsAndHeaders_AndKeepsItsRow()
    {
        var m = await MerchantAsync();
        var endpoint = TestEndpoints.New(m, T0, Time) with { Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gw" } };
        await Store.CreateEndpointAsync(endpoint);
        var kept = await EndpointAsync(m);
        await Store.RotateSecretAsync(m, endpoint.Id, "whsec_second", T0, T0 + TimeSpan.FromHours(1), 5);

        Assert.True(await Store.DeleteEndpointAsync(m, endpoint.Id, T0));

        Assert.Equal(1, await CountAsync($"SELECT COUNT(*) FROM endpoints WHERE id = '{endpoint.Id}' AND headers IS NULL"));
        Assert.Equal(0, await CountAsync($"SELECT COUNT(*) FROM endpoint_secrets WHERE endpoint_id = '{endpoint.Id}'"));
        Assert.Equal(1, await CountAsync($"SELECT COUNT(*) FROM endpoint_secrets WHERE endpoint_id = '{kept.Id}'"));
    }

    [Fact]
    public async Task DeletingAnEndpoint_DuringAnAttempt_KeepsThatAttemptsOutcome()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po2", 1, "OPENED", ep.Id, T0));
        var claimed = await Store.ClaimDueAsync(T0, Lease, 10);
        Assert.Equal(2, claimed.Count);
        var at = T0 + TimeSpan.FromSeconds(1);
        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, at));

        // Both requests were under way when the endpoint went: one was answered 200, one 500.
        var delivered = new AttemptOutcome(AttemptOf(claimed[0], true, AttemptTriggers.Schedule, at), NotificationStatuses.Succeeded, null, false, claimed[0].LeaseToken);
        var failed = new AttemptOutcome(AttemptOf(claimed[1], false, AttemptTriggers.Schedule, at), NotificationStatuses.Pending, at + TimeSpan.FromMinutes(5), true, claimed[1].LeaseToken);
        Assert.True(await Store.RecordScheduledAttemptAsync(delivered));
        Assert.True(await Store.RecordScheduledAttemptAsync(failed));
        await Store.UnparkAsync(at + TimeSpan.FromSeconds(1), 10);

        var reached = (await Store.GetNotificationAsync(m, claimed[0].Id))!;
        Assert.Equal(NotificationStatuses.Succeeded, reached.Status);
        Assert.NotNull(reached.SucceededAt);
        Assert.Single(await Store.ListAttemptsAsync(claimed[0].Id));
        var missed = (await Store.GetNotificationAsync(m, claimed[1].Id))!;
        Assert.Equal(NotificationStatuses.Dead, missed.Status);
        Assert.Equal("endpoint deleted", missed.LastError);
        Assert.Equal(1, missed.AttemptCount);
        Assert.Single(await Store.ListAttemptsAsync(claimed[1].Id));
        Assert.Empty(await Store.ClaimDueAsync(at + TimeSpan.FromDays(1), Lease, 10));
    }

    [Fact]
    public async Task DeletingAnEndpoint_WhoseAttemptsNodeWasLost_KillsThatWorkOnceTheLeaseEnds()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, T0 + TimeSpan.FromSeconds(1)));

        // The node holding it never answers: while its lease runs the notification waits for it...
        await Store.UnparkAsync(T0 + TimeSpan.FromSeconds(2), 10);
        Assert.Equal(NotificationStatuses.Pending, (await Store.GetNotificationAsync(m, claimed.Id))!.Status);
        // ...and once the lease has ended it dies as the delete would have left it.
        await Store.UnparkAsync(T0 + Lease + TimeSpan.FromSeconds(1), 10);
        var n = (await Store.GetNotificationAsync(m, claimed.Id))!;
        Assert.Equal(NotificationStatuses.Dead, n.Status);
        Assert.Equal("endpoint deleted", n.LastError);
    }

    [Fact]
    public async Task ChangeRecordedForAnEndpointDeletedMeanwhile_EndsDead_NotPendingForever()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        // The change was rendered while the endpoint was listed; the delete commits first.
        Assert.True(await Store.DeleteEndpointAsync(m, ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        Assert.Equal(NotificationStatuses.Pending, Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data).Status);

        // The workers' once-a-second round settles it as the delete would have.
        Assert.Equal(0, await Store.UnparkAsync(T0 + TimeSpan.FromSeconds(1), 10));
        var n = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Equal(NotificationStatuses.Dead, n.Status);
        Assert.Equal("endpoint deleted", n.LastError);
        Assert.Null(n.NextAttemptAt);
    }

    [Fact]
    public async Task Release_MakesClaimedWorkDueAtOnce()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        await Store.ReleaseAsync([(claimed.Id, claimed.LeaseToken!)], T0 + TimeSpan.FromSeconds(1));
        Assert.Single(await Store.ClaimDueAsync(T0 + TimeSpan.FromSeconds(1), Lease, 10));
    }

    [Fact]
    public async Task RotatedSecret_KeepsSigningUntilItsGraceEnds_NewestFirst()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var fresh = WebhookSignature.NewSecret();
        var rotatedAt = T0 + TimeSpan.FromSeconds(1);
        Assert.Equal(SecretRotationOutcome.Rotated, (await Store.RotateSecretAsync(m, ep.Id, fresh, rotatedAt, rotatedAt + TimeSpan.FromHours(1), 5)).Outcome);
        Assert.Equal(SecretRotationOutcome.NotFound,
            (await Store.RotateSecretAsync(await MerchantAsync("Other"), ep.Id, WebhookSignature.NewSecret(), rotatedAt, rotatedAt, 5)).Outcome);

        var during = Assert.Single(await Store.ClaimDueAsync(T0 + TimeSpan.FromMinutes(30), Lease, 10));
        Assert.Equal([fresh, ep.Secrets[0]], during.Secrets);
        // An endpoint's test is given the secrets a delivery is.
        Assert.Equal([fresh, ep.Secrets[0]], await Store.SigningSecretsAsync(ep.Id, T0 + TimeSpan.FromMinutes(30)));
        var after = (await Store.LoadForResendAsync(m, during.Id, rotatedAt + TimeSpan.FromHours(1)))!;
        Assert.Equal([fresh], after.Secrets);
        Assert.Equal([fresh], await Store.SigningSecretsAsync(ep.Id, rotatedAt + TimeSpan.FromHours(1)));
        Assert.Equal([fresh], (await Store.GetEndpointAsync(m, ep.Id))!.Secrets);
        Assert.Empty(await Store.SigningSecretsAsync("ep_none", T0));
    }

    [Fact]
    public async Task Rotation_PastTheMostSecretsSigning_IsRefusedChangingNothing_UntilAGraceEndsOrNoneIsGiven()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        // Four rotations a minute apart, each with a grace of an hour: five secrets sign.
        var secrets = new List<string> { ep.Secrets[0] };
        for (var i = 1; i <= 4; i++)
        {
            var secret = WebhookSignature.NewSecret();
            var at = T0 + TimeSpan.FromMinutes(i);
            Assert.Equal(SecretRotationOutcome.Rotated, (await Store.RotateSecretAsync(m, ep.Id, secret, at, at + TimeSpan.FromHours(1), 5)).Outcome);
            secrets.Insert(0, secret);
        }
        var now = T0 + TimeSpan.FromMinutes(5);
        Assert.Equal(secrets, await Store.SigningSecretsAsync(ep.Id, now));

        // A sixth, with a grace: refused, saying when there is room (the first grace, of the first
        // rotation, ends), and nothing changed.
        var refused = await Store.RotateSecretAsync(m, ep.Id, WebhookSignature.NewSecret(), now, now + TimeSpan.FromHours(1), 5);
        Assert.Equal(new SecretRotation(SecretRotationOutcome.TooManySigning, 5, T0 + TimeSpan.FromMinutes(1) + TimeSpan.FromHours(1)), refused);
        Assert.Equal(secrets, await Store.SigningSecretsAsync(ep.Id, now));

        // Once that grace has ended, the secret it kept signing is not counted: one more fits.
        var later = T0 + TimeSpan.FromMinutes(61);
        var fifth = WebhookSignature.NewSecret();
        Assert.Equal(SecretRotationOutcome.Rotated, (await Store.RotateSecretAsync(m, ep.Id, fifth, later, later + TimeSpan.FromHours(1), 5)).Outcome);
        Assert.Equal([fifth, .. secrets[..4]], await Store.SigningSecretsAsync(ep.Id, later));
        Assert.Equal(5, await CountAsync($"SELECT COUNT(*) FROM endpoint_secrets WHERE endpoint_id = '{ep.Id}'"));

        // Without a grace a rotation always fits, and every older secret stops signing at once.
        var alone = WebhookSignature.NewSecret();
        Assert.Equal(SecretRotationOutcome.Rotated, (await Store.RotateSecretAsync(m, ep.Id, alone, later, later, 5)).Outcome);
        Assert.Equal([alone], await Store.SigningSecretsAsync(ep.Id, later));
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, later));
        Assert.Equal([alone], Assert.Single(await Store.ClaimDueAsync(later, Lease, 10)).Secrets);
    }

    [Fact]
    public async Task Rotations_MadeAtOnce_NeverTakeTheSecretsSigningPastTheBound()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var rotations = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() =>
            Store.RotateSecretAsync(m, ep.Id, WebhookSignature.NewSecret(), T0, T0 + TimeSpan.FromHours(1), 5))));
        // The first secret counts: four more fit under a bound of five, whatever the race.
        Assert.Equal(4, rotations.Count(r => r.Outcome == SecretRotationOutcome.Rotated));
        Assert.Equal(8, rotations.Count(r => r.Outcome == SecretRotationOutcome.TooManySigning));
        Assert.Equal(5, (await Store.SigningSecretsAsync(ep.Id, T0)).Count);
    }

    [Fact]
    public async Task QueueStats_CountPendingNotifications_ParkedOnesIncluded_WithTheOldestAge()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        var paused = await EndpointAsync(m);
        Assert.Equal((0L, (DateTimeOffset?)null), await Store.QueueStatsAsync());

        await Store.CommitChangeAsync(Change(m, "done", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.True(await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed.LeaseToken)));
        await Store.CommitChangeAsync(Change(m, "parked", 1, "OPENED", paused.Id, T0 + TimeSpan.FromMinutes(1)));
        Assert.True(await Store.DisableEndpointAsync(paused.Id, "paused by the merchant", T0 + TimeSpan.FromMinutes(1)));
        await Store.CommitChangeAsync(Change(m, "waiting", 1, "OPENED", ep.Id, T0 + TimeSpan.FromMinutes(2)));

        var (pending, oldest) = await Store.QueueStatsAsync();
        Assert.Equal(2, pending);
        Assert.Equal(T0 + TimeSpan.FromMinutes(1), oldest);
    }

    /// <summary>A whole walk of the events, <paramref name="window"/> at a time; how many went.</summary>
    private async Task<int> PurgeEventsAsync(DateTimeOffset cutoff, int window)
    {
        var deleted = 0;
        var windows = 0;
        for (string? next = ""; next is not null; windows++)
        {
            (var gone, next) = await Store.PurgeEventsAsync(cutoff, next, window);
            deleted += gone;
        }
        // Every event below the cutoff is read once, a window at a time (and one more read finds none left).
        Assert.InRange(windows, 2, 10);
        return deleted;
    }

    [Fact]
    public async Task PurgeEvents_RemovesOldEventsNoNotificationRefersTo_WithTheirIdempotencyKeys_InBatches_TheEntitiesStay()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        // Old events: two with no notification (one named by an idempotency key), each followed by
        // a later one of its entity; one whose notification succeeded and is purged first, also
        // followed; one whose notification still waits; and an entity's latest, which stays.
        var keyed = Change(m, "keyed", 1, "OPENED", null, T0, ("key-old", "hash-old"));
        await Store.CommitChangeAsync(keyed);
        await Store.CommitChangeAsync(Change(m, "plain", 1, "OPENED", null, T0));
        await Store.CommitChangeAsync(Change(m, "delivered", 1, "OPENED", ep.Id, T0));
        foreach (var id in new[] { "keyed", "plain", "delivered" })
        {
            await Store.CommitChangeAsync(Change(m, id, 2, "CLOSED", null, T0 + TimeSpan.FromMinutes(1)));
        }
        await Store.CommitChangeAsync(Change(m, "latest", 1, "OPENED", null, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 1));
        await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed.LeaseToken));
        await Store.CommitChangeAsync(Change(m, "waiting", 1, "OPENED", ep.Id, T0));
        var recent = Change(m, "recent", 1, "OPENED", null, T0 + TimeSpan.FromDays(40), ("key-new", "hash-new"));
        await Store.CommitChangeAsync(recent);

        var cutoff = T0 + TimeSpan.FromDays(10);
        // The delivered one's event stays while its notification does.
        Assert.Equal(2, await PurgeEventsAsync(cutoff, 2));
        Assert.Equal(1, await Store.PurgeAsync(cutoff, 5));
        Assert.Equal(1, await PurgeEventsAsync(cutoff, 2));
        Assert.Equal(0, await PurgeEventsAsync(cutoff, 2));

        var left = (await Store.ListEventsAsync(m, null, 10, null)).Data;
        Assert.Equal(["delivered/2", "keyed/2", "latest/1", "plain/2", "recent/1", "waiting/1"],
            left.Select(e => $"{e.EntityId}/{e.Version}").Order(StringComparer.Ordinal));
        Assert.Null(await Store.FindIdempotencyKeyAsync(m, "key-old"));
        Assert.Equal((recent.Event.Id, "hash-new"), await Store.FindIdempotencyKeyAsync(m, "key-new"));
        // The waiting notification still has its payload, and every entity is still there.
        var waiting = Assert.Single((await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "waiting" })).Data);
        Assert.NotNull((await Store.GetNotificationAsync(m, waiting.Id))!.Payload);
        foreach (var id in new[] { "keyed", "plain", "delivered", "waiting", "recent", "latest" })
        {
            var entity = await Store.GetEntityAsync(m, EntityKind.PaymentOrder, id);
            Assert.Equal(entity!.State, entity.Document["status"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Purge_RemovesOnlyOldFinishedNotifications_InBatches()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        for (var i = 0; i < 3; i++)
        {
            await Store.CommitChangeAsync(Change(m, $"old{i}", 1, "OPENED", ep.Id, T0));
        }
        await Store.CommitChangeAsync(Change(m, "pending-old", 1, "OPENED", ep.Id, T0));
        foreach (var claimed in (await Store.ClaimDueAsync(T0, Lease, 3)))
        {
            await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed.LeaseToken));
        }
        await Store.CommitChangeAsync(Change(m, "recent", 1, "OPENED", ep.Id, T0 + TimeSpan.FromDays(40)));
        // Old, but resent by hand after the cutoff: kept until that attempt is as old.
        await Store.CommitChangeAsync(Change(m, "resent", 1, "OPENED", null, T0));
        await Store.CommitChangeAsync(Change(m, "resent", 2, "CLOSED", ep.Id, T0));
        var resent = (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "resent" })).Data.Single();
        await Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Time), resent.Id, 1, AttemptTriggers.Manual, T0 + TimeSpan.FromDays(20), 5, 200, true, null, null));

        var cutoff = T0 + TimeSpan.FromDays(10);
        Assert.Equal(2, await Store.PurgeAsync(cutoff, 2));
        Assert.Equal(1, await Store.PurgeAsync(cutoff, 2));
        Assert.Equal(0, await Store.PurgeAsync(cutoff, 2));
        var left = (await Store.ListNotificationsAsync(m, new NotificationQuery())).Data;
        // The pending one is never purged, whatever its age; the recent one is kept, and the one resent late.
        Assert.Equal(3, left.Count);
        Assert.Equal(NotificationStatuses.Succeeded, left.Single(n => n.Id == resent.Id).Status);
        Assert.All(left.Where(n => n.Id != resent.Id), n => Assert.Equal(NotificationStatuses.Pending, n.Status));
        Assert.Equal(1, await Store.PurgeAsync(T0 + TimeSpan.FromDays(21), 5));
    }

    [Fact]
    public async Task EraseMerchantData_RemovesTheMerchantsEntitiesEventsAndNotifications_OnlyTheirs()
    {
        var a = await MerchantAsync("A");
        var b = await MerchantAsync("B");
        var epA = await EndpointAsync(a);
        var epB = await EndpointAsync(b);
        await Store.CommitChangeAsync(Change(a, "a1", 1, "OPENED", epA.Id, T0));
        await Store.CommitChangeAsync(Change(b, "b1", 1, "OPENED", epB.Id, T0));
        await Store.AddResendsAsync([new ResendRequest("rsd_a", a, ["ntf_a"], false, 0, T0), new ResendRequest("rsd_b", b, ["ntf_b"], false, 0, T0)], "node", T0);

        Assert.True(await Store.EraseMerchantDataAsync(a));
        Assert.Equal(["rsd_b"], (await Store.ClaimResendsAsync("other", T0, T0 + Lease, 10)).Select(r => r.Id));
        Assert.False(await Store.EraseMerchantDataAsync("mer_nobody"));
        Assert.Null(await Store.GetEntityAsync(a, EntityKind.PaymentOrder, "a1"));
        Assert.Empty((await Store.ListEventsAsync(a, null, 10, null)).Data);
        Assert.Empty((await Store.ListNotificationsAsync(a, new NotificationQuery())).Data);
        Assert.NotNull(await Store.GetEndpointAsync(a, epA.Id));
        Assert.NotNull(await Store.GetEntityAsync(b, EntityKind.PaymentOrder, "b1"));
        Assert.Single((await Store.ListNotificationsAsync(b, new NotificationQuery())).Data);
    }

    [Fact]
    public async Task EraseMerchantData_InBatches_LetsOtherChangesInBetween_AndLeavesNothingOfTheMerchant()
    {
        var a = await MerchantAsync("A");
        var b = await MerchantAsync("B");
        var epA = await EndpointAsync(a);
        var epB = await EndpointAsync(b);
        // Seven entities of A with two versions each: fourteen events and notifications, with attempts.
        for (var i = 0; i < 7; i++)
        {
            await Store.CommitChangeAsync(Change(a, "a" + i, 1, "OPENED", epA.Id, T0 + TimeSpan.FromSeconds(i)));
            await Store.CommitChangeAsync(Change(a, "a" + i, 2, "CLOSED", epA.Id, T0 + TimeSpan.FromSeconds(i) + TimeSpan.FromMilliseconds(1)));
        }
        foreach (var n in (await Store.ListNotificationsAsync(a, new NotificationQuery { Limit = 100 })).Data)
        {
            await Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Time), n.Id, 1, AttemptTriggers.Manual, T0, 5, 500, false, "HTTP 500", null));
        }
        await Store.CommitChangeAsync(Change(b, "b0", 1, "OPENED", epB.Id, T0));
        var store = (RelationalStore)Store;
        store.EraseBatch = 3;
        var between = 0;
        // Between the erasure's transactions, B's changes and A's go on: A's are erased with the rest.
        store.BetweenEraseBatches = async () =>
        {
            between++;
            await Store.CommitChangeAsync(Change(b, "b" + between, 1, "OPENED", epB.Id, T0 + TimeSpan.FromMinutes(between)));
            if (between == 2)
            {
                await Store.CommitChangeAsync(Change(a, "a-meanwhile", 1, "OPENED", epA.Id, T0 + TimeSpan.FromMinutes(between)));
            }
        };
        try
        {
            Assert.True(await Store.EraseMerchantDataAsync(a));
        }
        finally
        {
            store.BetweenEraseBatches = null;
            store.EraseBatch = 2_000;
        }

        // Fourteen notifications (and more recorded meanwhile) in batches of 3, then the events no entity holds as its latest.
        Assert.True(between >= 5, $"{between} transactions");
        Assert.Empty((await Store.ListNotificationsAsync(a, new NotificationQuery())).Data);
        Assert.Empty((await Store.ListEventsAsync(a, null, 100, null)).Data);
        Assert.Null(await Store.GetEntityAsync(a, EntityKind.PaymentOrder, "a0"));
        Assert.Null(await Store.GetEntityAsync(a, EntityKind.PaymentOrder, "a-meanwhile"));
        Assert.Equal(between + 1, (await Store.ListNotificationsAsync(b, new NotificationQuery { Limit = 100 })).Data.Count);
        Assert.NotNull(await Store.GetEntityAsync(b, EntityKind.PaymentOrder, "b1"));
        // A's next change after the erasure is A's alone.
        await Store.CommitChangeAsync(Change(a, "a0", 1, "OPENED", epA.Id, T0 + TimeSpan.FromHours(1)));
        Assert.Single((await Store.ListNotificationsAsync(a, new NotificationQuery())).Data);
    }

    [Fact]
    public async Task EraseMerchantData_WhileItsNotificationsAreClaimedAndTheirOutcomesRecorded_LeavesNothingBehind()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        for (var i = 0; i < 60; i++)
        {
            await Store.CommitChangeAsync(Change(m, "po" + i, 1, "OPENED", ep.Id, T0 + TimeSpan.FromMilliseconds(i)));
        }
        var store = (RelationalStore)Store;
        store.EraseBatch = 5;
        var round = 0;
        var recorded = 0;
        // A round of deliveries: claims, and outcomes written newest first, against the erasure's
        // oldest-first batches (on PostgreSQL, row locks taken in the other order).
        async Task DeliverAsync()
        {
            var at = T0 + TimeSpan.FromMinutes(Interlocked.Increment(ref round));
            var claimed = await Store.ClaimDueAsync(at, Lease, 10);
            var outcomes = claimed.OrderByDescending(n => n.Id, StringComparer.Ordinal)
                .Select(n => new AttemptOutcome(AttemptOf(n, false, AttemptTriggers.Schedule, at), NotificationStatuses.Pending, T0, true, n.LeaseToken)).ToList();
            if (outcomes.Count > 0)
            {
                Interlocked.Add(ref recorded, (await Store.RecordScheduledAttemptsAsync(outcomes)).Count(r => r));
            }
        }
        // One between each of the erasure's transactions, and more alongside them where writers run at once.
        store.BetweenEraseBatches = DeliverAsync;
        using var erased = new CancellationTokenSource();
        var alongside = Task.Run(async () =>
        {
            for (var i = 0; i < 200 && !erased.IsCancellationRequested; i++)
            {
                await DeliverAsync();
            }
        });
        try
        {
            Assert.True(await Store.EraseMerchantDataAsync(m));
        }
        finally
        {
            erased.Cancel();
            store.BetweenEraseBatches = null;
            store.EraseBatch = 2_000;
        }
        await alongside;

        Assert.True(recorded > 0, "no outcome was recorded while the erasure ran");
        Assert.Empty((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data);
        Assert.Empty((await Store.ListEventsAsync(m, null, 100, null)).Data);
        Assert.Empty(await Store.ClaimDueAsync(T0 + TimeSpan.FromDays(1), Lease, 100));
    }

    [Fact]
    public async Task EraseMerchantData_BesideAPurge_BothFinish_EachTakingItsOwn()
    {
        // Two merchants' old finished notifications, interleaved in the log: the purge's batches take
        // both merchants' rows, the erasure's batches one merchant's, in the same order.
        var a = await MerchantAsync("A");
        var b = await MerchantAsync("B");
        var epA = await EndpointAsync(a);
        var epB = await EndpointAsync(b);
        for (var i = 0; i < 30; i++)
        {
            await Store.CommitChangeAsync(Change(a, "a" + i, 1, "OPENED", epA.Id, T0 + TimeSpan.FromMilliseconds(2 * i)));
            await Store.CommitChangeAsync(Change(b, "b" + i, 1, "OPENED", epB.Id, T0 + TimeSpan.FromMilliseconds(2 * i + 1)));
        }
        foreach (var claimed in await Store.ClaimDueAsync(T0 + TimeSpan.FromSeconds(1), Lease, 100))
        {
            await Store.RecordScheduledAttemptAsync(new AttemptOutcome(AttemptOf(claimed, true, AttemptTriggers.Schedule, T0), NotificationStatuses.Succeeded, null, false, claimed.LeaseToken));
        }
        var store = (RelationalStore)Store;
        store.EraseBatch = 3;
        var purged = 0;
        var purging = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                var deleted = await Store.PurgeAsync(T0 + TimeSpan.FromDays(10), 4);
                purged += deleted;
                if (deleted == 0 && purged > 0)
                {
                    break;
                }
            }
        });
        try
        {
            Assert.True(await Store.EraseMerchantDataAsync(a));
            // Neither was undone for good by the other: a lock cycle would have failed one of them.
            await purging;
        }
        finally
        {
            store.EraseBatch = 2_000;
        }

        Assert.Empty((await Store.ListNotificationsAsync(a, new NotificationQuery())).Data);
        Assert.Empty((await Store.ListNotificationsAsync(b, new NotificationQuery())).Data);
        Assert.InRange(purged, 30, 60);
    }

    [Fact]
    public async Task AKeptResendsAttempt_MovesTheRequestOnInItsOwnCommit_WhileItsOwnerHoldsIt()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po1", 1, "OPENED", ep.Id, T0));
        var claimed = Assert.Single(await Store.ClaimDueAsync(T0, Lease, 10));
        var n = claimed.Id;
        await Store.AddResendsAsync(
            [
                new ResendRequest("rsd_run", m, [n, n, n], StopAtFailure: true, Done: 0, T0),
                new ResendRequest("rsd_all", m, [n, n], StopAtFailure: false, Done: 0, T0),
            ], "node-a", T0 + Lease);
        Task<long> DoneAsync(string id) => CountAsync($"SELECT COALESCE(MAX(done), -1) FROM resends WHERE id = '{id}' AND under_way = 0");
        var at = T0;
        Task RecordAsync(bool ok, ResendStep step) => Store.RecordManualAttemptAsync(AttemptOf(claimed, ok, AttemptTriggers.Manual, at = at.AddSeconds(1)), null, default, step);

        // Not its last: moved past it. Held by another node now: left as it is, the attempt recorded all the same.
        Assert.True(await Store.MarkResendUnderWayAsync("rsd_run", "node-a", 0));
        await RecordAsync(true, new ResendStep("rsd_run", "node-a", 0, 3, StopAtFailure: true));
        Assert.Equal(1, await DoneAsync("rsd_run"));
        await RecordAsync(true, new ResendStep("rsd_run", "node-b", 1, 3, StopAtFailure: true));
        Assert.Equal(1, await DoneAsync("rsd_run"));
        // A failure ends a run that stops at one: forgotten with it.
        await RecordAsync(false, new ResendStep("rsd_run", "node-a", 1, 3, StopAtFailure: true));
        Assert.Equal(-1, await DoneAsync("rsd_run"));

        // A failure of one that goes on moves it on; its last, whatever its end, forgets it.
        await RecordAsync(false, new ResendStep("rsd_all", "node-a", 0, 2, StopAtFailure: false));
        Assert.Equal(1, await DoneAsync("rsd_all"));
        await RecordAsync(false, new ResendStep("rsd_all", "node-a", 1, 2, StopAtFailure: false));
        Assert.Equal(-1, await DoneAsync("rsd_all"));
        Assert.Equal(5, (await Store.ListAttemptsAsync(n)).Count(a => a.Trigger == AttemptTriggers.Manual));
    }

    [Fact]
    public async Task KeptResends_AreOwnedUntilHandedBack_ThenTakenOldestFirst_WithHowFarARunGot()
    {
        var m = await MerchantAsync();
        var run = new ResendRequest("rsd_1", m, ["ntf_a", "ntf_b", "ntf_c"], StopAtFailure: true, Done: 0, T0);
        var single = new ResendRequest("rsd_2", m, ["ntf_d"], StopAtFailure: false, Done: 0, T0.AddSeconds(1), OnlyFailed: true);
        await Store.AddResendsAsync([run, single], "node-a", T0 + Lease);

        // Node A's while its hold lasts: nobody else takes them, nor advances them.
        Assert.Empty(await Store.ClaimResendsAsync("node-b", T0, T0 + Lease, 10));
        Assert.True(await Store.AdvanceResendAsync("rsd_1", "node-a", 2));
        Assert.False(await Store.AdvanceResendAsync("rsd_1", "node-b", 3));

        // Handed back (A stopping): B takes them at once, the oldest first, the run where it got to.
        await Store.ReleaseResendsAsync("node-a");
        var taken = await Store.ClaimResendsAsync("node-b", T0, T0 + Lease, 10);
        Assert.Equal(["rsd_1", "rsd_2"], taken.Select(r => r.Id));
        Assert.Equal(run with { Done = 2 }, taken[0] with { NotificationIds = run.NotificationIds });
        Assert.Equal(run.NotificationIds, taken[0].NotificationIds);
        Assert.Equal(single.NotificationIds, taken[1].NotificationIds);
        Assert.True(taken[1].OnlyFailed);
        Assert.False(taken[0].OnlyFailed);
        Assert.False(taken[1].StopAtFailure);
        Assert.Equal(single.CreatedAt, taken[1].CreatedAt);

        // A holds them no more: its renewal answers none of them, and it can neither advance nor forget them.
        Assert.Empty(await Store.RenewResendsAsync("node-a", ["rsd_1", "rsd_2"], T0 + 3 * Lease));
        Assert.False(await Store.AdvanceResendAsync("rsd_1", "node-a", 3));
        Assert.False(await Store.RemoveResendAsync("rsd_2", "node-a"));

        // B renews what it names; C finds nothing until that hold runs out, then takes what is
        // left, up to its limit; and one whose owner let its hold lapse, the owner itself takes back.
        Assert.Equal(["rsd_1"], await Store.RenewResendsAsync("node-b", ["rsd_1"], T0 + 3 * Lease));
        Assert.True(await Store.RemoveResendAsync("rsd_2", "node-b"));
        await Store.AddResendsAsync([new ResendRequest("rsd_3", m, ["ntf_e"], false, 0, T0.AddSeconds(2))], "node-b", T0 + 3 * Lease);
        Assert.Empty(await Store.ClaimResendsAsync("node-c", T0 + 2 * Lease, T0 + 4 * Lease, 10));
        Assert.Equal(["rsd_1"], (await Store.ClaimResendsAsync("node-c", T0 + 3 * Lease, T0 + 4 * Lease, 1)).Select(r => r.Id));
        Assert.Equal(["rsd_3"], (await Store.ClaimResendsAsync("node-c", T0 + 3 * Lease, T0 + 4 * Lease, 10)).Select(r => r.Id));
        Assert.Equal(["rsd_1", "rsd_3"], (await Store.ClaimResendsAsync("node-c", T0 + 4 * Lease, T0 + 5 * Lease, 10)).Select(r => r.Id));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM resends WHERE id = 'rsd_2'"));
    }

    [Fact]
    public async Task Resending_NamesWhatTheMerchantsKeptResendsHaveYetToSend_WhoeverOwnsThem()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        await Store.AddResendsAsync(
        [
            new ResendRequest("rsd_1", m, ["ntf_a", "ntf_b", "ntf_c"], StopAtFailure: true, Done: 0, T0),
            new ResendRequest("rsd_2", m, ["ntf_d"], false, 0, T0),
        ], "node-a", T0 + Lease);
        await Store.AddResendsAsync([new ResendRequest("rsd_3", other, ["ntf_e"], false, 0, T0)], "node-b", T0 + Lease);
        Assert.True(await Store.AdvanceResendAsync("rsd_1", "node-a", 1));

        Assert.Equal(["ntf_b", "ntf_c", "ntf_d"], (await Store.ResendingAsync(m)).Order(StringComparer.Ordinal));
        Assert.True(await Store.RemoveResendAsync("rsd_2", "node-a"));
        Assert.Equal(["ntf_b", "ntf_c"], (await Store.ResendingAsync(m)).Order(StringComparer.Ordinal));
        Assert.Equal(["ntf_e"], await Store.ResendingAsync(other));
        Assert.Empty(await Store.ResendingAsync("mer_nobody"));
    }

    [Fact]
    public async Task ARecoversResends_LeaveOutAnAttemptUnderWay_OnlyIfItStartedAfterTheRecoverWasAsked()
    {
        var m = await MerchantAsync();
        await Store.AddResendsAsync(
        [
            new ResendRequest("rsd_1", m, ["ntf_a", "ntf_b"], StopAtFailure: true, Done: 0, T0),
            new ResendRequest("rsd_2", m, ["ntf_c"], false, 0, T0),
        ], "node-a", T0 + Lease);
        // rsd_1's attempt of ntf_a is under way when the recover is asked (its run stops there
        // should it fail, so ntf_b may not be sent either); rsd_2's starts after.
        Assert.True(await Store.MarkResendUnderWayAsync("rsd_1", "node-a", 0));
        Assert.False(await Store.MarkResendUnderWayAsync("rsd_2", "node-b", 0));
        var asked = await Store.ResendsUnderWayAsync(m);
        Assert.Equal(["rsd_1"], asked);
        Assert.True(await Store.MarkResendUnderWayAsync("rsd_2", "node-a", 0));

        Assert.Equal(["ntf_c"], await Store.ResendingAsync(m, asked));
        // Without what was under way when asked, every attempt under way still counts as waiting.
        Assert.Equal(["ntf_a", "ntf_b", "ntf_c"], (await Store.ResendingAsync(m)).Order(StringComparer.Ordinal));
        var kept = await Store.AddResendsNotWaitingAsync(m,
        [
            new ResendRequest("rsd_3", m, ["ntf_a"], false, 0, T0, OnlyFailed: true),
            new ResendRequest("rsd_4", m, ["ntf_b"], false, 0, T0, OnlyFailed: true),
            new ResendRequest("rsd_5", m, ["ntf_c"], false, 0, T0, OnlyFailed: true),
        ], "node-b", T0 + Lease, asked);
        Assert.Equal(["rsd_3", "rsd_4"], kept.Select(r => r.Id));

        // Once the run moves on, nothing of it is under way; a node that takes over a resend whose
        // attempt was cut off has not started it again.
        Assert.True(await Store.AdvanceResendAsync("rsd_1", "node-a", 1));
        Assert.Equal(["rsd_2"], await Store.ResendsUnderWayAsync(m));
        Assert.True(await Store.MarkResendUnderWayAsync("rsd_1", "node-a", 1));
        await Store.ReleaseResendsAsync("node-a");
        Assert.Empty(await Store.ResendsUnderWayAsync(m));
        Assert.False(await Store.MarkResendUnderWayAsync("rsd_2", "node-a", 0));
        Assert.Equal(["rsd_1", "rsd_2"], (await Store.ClaimResendsAsync("node-c", T0, T0 + Lease, 10)).Select(r => r.Id));
        Assert.True(await Store.MarkResendUnderWayAsync("rsd_2", "node-c", 0));
        Assert.Equal(["rsd_2"], await Store.ResendsUnderWayAsync(m));
        Assert.Empty(await Store.ResendsUnderWayAsync("mer_nobody"));
    }

    [Fact]
    public async Task ARecoversResends_AreKeptLessWhatTheMerchantsKeptResendsWaitToSend_AndAnsweredAsKept()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        await Store.AddResendsAsync([new ResendRequest("rsd_1", m, ["ntf_a", "ntf_b"], StopAtFailure: true, Done: 0, T0)], "node-a", T0 + Lease);
        await Store.AddResendsAsync([new ResendRequest("rsd_2", other, ["ntf_c"], false, 0, T0)], "node-a", T0 + Lease);
        Assert.True(await Store.AdvanceResendAsync("rsd_1", "node-a", 1));

        // ntf_a was handled, ntf_b still waits; another merchant's waiting ntf_c is none of m's.
        var kept = await Store.AddResendsNotWaitingAsync(m,
        [
            new ResendRequest("rsd_3", m, ["ntf_a"], false, 0, T0, OnlyFailed: true),
            new ResendRequest("rsd_4", m, ["ntf_b"], false, 0, T0, OnlyFailed: true),
            new ResendRequest("rsd_5", m, ["ntf_b", "ntf_c", "ntf_d"], StopAtFailure: true, Done: 0, T0, OnlyFailed: true),
        ], "node-b", T0 + Lease);

        Assert.Equal(["rsd_3", "rsd_5"], kept.Select(r => r.Id));
        Assert.Equal(["ntf_c", "ntf_d"], kept[1].NotificationIds);
        Assert.Equal(["ntf_a", "ntf_b", "ntf_c", "ntf_d"], (await Store.ResendingAsync(m)).Order(StringComparer.Ordinal));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM resends WHERE id = 'rsd_4'"));
        await Store.ReleaseResendsAsync("node-b");
        var taken = await Store.ClaimResendsAsync("node-c", T0, T0 + Lease, 10);
        Assert.Equal(["ntf_c", "ntf_d"], taken.Single(r => r.Id == "rsd_5").NotificationIds);
        Assert.True(taken.Single(r => r.Id == "rsd_5").StopAtFailure);

        // Asked again, the same recover keeps nothing: all of it waits.
        Assert.Empty(await Store.AddResendsNotWaitingAsync(m, [new ResendRequest("rsd_6", m, ["ntf_a", "ntf_d"], true, 0, T0)], "node-b", T0 + Lease));
        Assert.Equal(4, await CountAsync("SELECT COUNT(*) FROM resends"));
    }

    [Fact]
    public async Task PortalSessions_StandWhileTheirKeyDoes_EndedStayEnded_UntilForgottenPastTheirLongestLife()
    {
        var m = await MerchantAsync();
        var key = new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), m, "hash_key", T0);
        Assert.True(await Store.CreateApiKeyAsync(key, 10));
        Assert.Equal("Acme", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(await MerchantAsync("Other"), "hash_key", "hash_a", T0));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_unknown", "hash_a", T0));

        await Store.EndPortalSessionAsync("hash_a", T0, T0 - TimeSpan.FromDays(1));
        await Store.EndPortalSessionAsync("hash_a", T0, T0 - TimeSpan.FromDays(1));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));
        Assert.Equal("Acme", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_b", T0));

        // A day on, ending another forgets the first, which no cookie could use any more.
        await Store.EndPortalSessionAsync("hash_b", T0.AddDays(1).AddMinutes(1), T0.AddMinutes(1));
        Assert.Equal("Acme", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_b", T0));

        // Renamed since, the session answers the name as it is now.
        Assert.True(await Store.RenameMerchantAsync(m, "Acme Payments"));
        Assert.Equal("Acme Payments", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));

        // The key revoked, no session of it stands.
        Assert.True(await Store.RevokeApiKeyAsync(m, key.Id, T0.AddDays(1)));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));
    }

    [Fact]
    public async Task EndingAMerchantsPortalSessions_EndsThoseSignedInUntilThen_KeyOrLink_VoidsItsUnusedLinks_AndLeavesOthers()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        Assert.True(await Store.CreateApiKeyAsync(new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), m, "hash_key", T0), 10));
        Assert.True(await Store.CreateApiKeyAsync(new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), other, "hash_other", T0), 10));
        await Store.CreatePortalLinkAsync("hash_unused", m, T0, T0.AddMinutes(5), T0 - TimeSpan.FromDays(1));
        await Store.CreatePortalLinkAsync("hash_used", m, T0, T0.AddMinutes(5), T0 - TimeSpan.FromDays(1));
        await Store.CreatePortalLinkAsync("hash_others", other, T0, T0.AddMinutes(5), T0 - TimeSpan.FromDays(1));
        Assert.Equal(m, await Store.UsePortalLinkAsync("hash_used", T0));

        await Store.EndMerchantPortalSessionsAsync(m, T0.AddMinutes(1));

        // Signed in until then (the very moment included), key or link, the merchant's sessions end; later ones stand.
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_a", T0.AddMinutes(1)));
        Assert.Null(await Store.PortalLinkSessionMerchantNameAsync(m, "hash_s", T0.AddMinutes(1)));
        Assert.Equal("Acme", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_b", T0.AddMinutes(1).AddMilliseconds(1)));
        Assert.Equal("Acme", await Store.PortalLinkSessionMerchantNameAsync(m, "hash_t", T0.AddMinutes(2)));
        // Another merchant's sessions and links are untouched.
        Assert.Equal("Other", await Store.PortalSessionMerchantNameAsync(other, "hash_other", "hash_c", T0));
        Assert.Equal("Other", await Store.PortalLinkSessionMerchantNameAsync(other, "hash_d", T0));
        Assert.Equal("Other", (await Store.PortalLinkMerchantAsync("hash_others", T0.AddMinutes(1)))!.Name);
        // The merchant's unused link signs in no one.
        Assert.Null(await Store.PortalLinkMerchantAsync("hash_unused", T0.AddMinutes(1)));
        Assert.Null(await Store.UsePortalLinkAsync("hash_unused", T0.AddMinutes(1)));

        // Ended again later, sessions signed in between end too.
        await Store.EndMerchantPortalSessionsAsync(m, T0.AddMinutes(3));
        Assert.Null(await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_b", T0.AddMinutes(2)));
        Assert.Equal("Acme", await Store.PortalSessionMerchantNameAsync(m, "hash_key", "hash_e", T0.AddMinutes(4)));
    }

    [Fact]
    public async Task PortalLinks_SignInOnce_UntilTheyExpire_AndOfTwoUsesAtOnceExactlyOneWins()
    {
        var m = await MerchantAsync();
        await Store.CreatePortalLinkAsync("hash_link", m, T0, T0.AddMinutes(5), T0 - TimeSpan.FromDays(1));
        await Store.CreatePortalLinkAsync("hash_late", m, T0, T0.AddMinutes(5), T0 - TimeSpan.FromDays(1));
        Assert.Equal("Acme", (await Store.PortalLinkMerchantAsync("hash_link", T0))!.Name);
        Assert.Equal("Acme", (await Store.PortalLinkMerchantAsync("hash_link", T0))!.Name);
        Assert.Null(await Store.PortalLinkMerchantAsync("hash_unknown", T0));
        Assert.Null(await Store.UsePortalLinkAsync("hash_unknown", T0));

        // Uses at once, as two nodes may make them: one signs in, the others find it used.
        var uses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.UsePortalLinkAsync("hash_link", T0.AddMinutes(1)))));
        Assert.Equal([m], uses.Where(u => u is not null));
        Assert.Equal(7, uses.Count(u => u is null));
        Assert.Null(await Store.PortalLinkMerchantAsync("hash_link", T0.AddMinutes(1)));
        Assert.Null(await Store.UsePortalLinkAsync("hash_link", T0.AddMinutes(2)));

        // Expired, a link neither shows its merchant nor signs in, and stays unused.
        Assert.Null(await Store.PortalLinkMerchantAsync("hash_late", T0.AddMinutes(5)));
        Assert.Null(await Store.UsePortalLinkAsync("hash_late", T0.AddMinutes(5)));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM portal_links WHERE used_at IS NULL"));

        // A day past their expiry, links are forgotten when another is made.
        await Store.CreatePortalLinkAsync("hash_next", m, T0.AddDays(2), T0.AddDays(2).AddMinutes(5), T0.AddDays(1));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM portal_links"));

        // A session a link signed in stands while it is not ended, whatever the merchant's keys.
        Assert.Equal("Acme", await Store.PortalLinkSessionMerchantNameAsync(m, "hash_s", T0));
        Assert.Null(await Store.PortalLinkSessionMerchantNameAsync("mer_missing", "hash_s", T0));
        await Store.EndPortalSessionAsync("hash_s", T0, T0 - TimeSpan.FromDays(1));
        Assert.Null(await Store.PortalLinkSessionMerchantNameAsync(m, "hash_s", T0));
    }

    [Fact]
    public async Task KeptResends_AreAllKeptOrNone()
    {
        var m = await MerchantAsync();
        await Store.AddResendsAsync([new ResendRequest("rsd_1", m, ["ntf_a"], false, 0, T0)], "node-a", T0);
        // The second reuses the first's id: the database refuses it, and the third with it.
        var batch = new[]
        {
            new ResendRequest("rsd_2", m, ["ntf_b"], false, 0, T0),
            new ResendRequest("rsd_1", m, ["ntf_c"], false, 0, T0),
        };
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => Store.AddResendsAsync(batch, "node-a", T0));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM resends"));
    }

    [Fact]
    public async Task AWriteThatFoundTheDatabaseReadOnly_IsCheckedByAWriteOfItsOwn_UntilAWriteCommitsAgain()
    {
        const string Checks = "SELECT COALESCE(SUM(checks), 0) FROM write_checks";
        Assert.Null(await Store.DiagnoseAsync());
        Assert.Equal(0, await CountAsync(Checks));

        // SELECT 1 still answers: what a write (the API's, delivery's) ran into is kept, and the
        // readiness check then asks the database with a write of its own. This one takes writes:
        // that commits, and the node is ready again.
        Assert.Equal(DatabaseTrouble.ReadOnly, Store.TroubleOf(new InvalidOperationException("wrapped", ReadOnlyError())));
        Assert.Null(await Store.DiagnoseAsync());
        Assert.Equal(1, await CountAsync(Checks));
        Assert.Null(await Store.DiagnoseAsync());
        Assert.Equal(1, await CountAsync(Checks));

        // A claim that finds no work commits having written nothing (as it would on a full disk):
        // that tells nothing, and the next check writes again.
        Assert.Equal(DatabaseTrouble.ReadOnly, Store.TroubleOf(ReadOnlyError()));
        Assert.Empty(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.True(await Store.PingAsync());
        Assert.Equal(2, await CountAsync(Checks));

        // A write that changed something settles it without one.
        Assert.Equal(DatabaseTrouble.ReadOnly, Store.TroubleOf(ReadOnlyError()));
        await MerchantAsync();
        Assert.True(await Store.PingAsync());
        Assert.Equal(2, await CountAsync(Checks));
    }

    [Fact]
    public async Task AWriteThatFoundTheDiskFull_KeepsTheDatabaseUnready_UntilAChangeIsWritten_OrTheStoreSeesRoom()
    {
        const string Checks = "SELECT COALESCE(SUM(checks), 0) FROM write_checks";
        Assert.Equal(DatabaseTrouble.DiskFull, Store.TroubleOf(new InvalidOperationException("wrapped", DiskFullError())));
        if (WriteCheckEndsDiskFull)
        {
            // SQLite sees the volume's room (this one has some): its check writes, and it is over.
            Assert.Null(await Store.DiagnoseAsync());
            Assert.Equal(1, await CountAsync(Checks));
            return;
        }
        // PostgreSQL: a small write of the check's own could pass while a change's inserts fail.
        Assert.Equal("disk full", await Store.DiagnoseAsync());
        Assert.Empty(await Store.ClaimDueAsync(T0, Lease, 10));
        Assert.Equal("disk full", await Store.DiagnoseAsync());
        Assert.Equal(0, await CountAsync(Checks));
        // A change written is what tells.
        await MerchantAsync();
        Assert.Null(await Store.DiagnoseAsync());
    }

    [Fact]
    public async Task Migrate_AgainOnAMigratedDatabase_AppliesNothing()
    {
        Assert.Empty(await Store.MigrateAsync());
        Assert.True(await Store.PingAsync());
    }

    /// <summary>A manual attempt of the notification started at <paramref name="at"/>, taking <paramref name="durationMs"/>.</summary>
    private Task TimedAttemptAsync(string notificationId, DateTimeOffset at, int durationMs, bool ok) =>
        Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, new Clock(at)), notificationId, 1, AttemptTriggers.Manual,
            at, durationMs, ok ? 200 : 500, ok, ok ? null : "HTTP 500", null));

    [Fact]
    public async Task DeliveryStats_CountAttemptsPerHourAndEndpoint_WithLatencyPercentiles_OnlyTheMerchants()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        var fast = await EndpointAsync(m);
        var slow = await EndpointAsync(m);
        var theirs = await EndpointAsync(other);
        await Store.CommitChangeAsync(Change(m, "f1", 1, "OPENED", fast.Id, T0));
        await Store.CommitChangeAsync(Change(m, "s1", 1, "OPENED", slow.Id, T0));
        await Store.CommitChangeAsync(Change(other, "o1", 1, "OPENED", theirs.Id, T0));
        var fastId = (await Store.LoadForResendAsync(m, (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "f1" })).Data[0].Id, T0))!.Id;
        var slowId = (await Store.LoadForResendAsync(m, (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "s1" })).Data[0].Id, T0))!.Id;
        var theirId = (await Store.ListNotificationsAsync(other, new NotificationQuery())).Data[0].Id;

        // The fast endpoint: 1..20 ms in the first hour, the 20th failing; the slow one: 100..400 ms an hour later.
        for (var i = 1; i <= 20; i++)
        {
            await TimedAttemptAsync(fastId, T0 + TimeSpan.FromMinutes(i), i, ok: i != 20);
        }
        foreach (var ms in new[] { 400, 100, 300, 200 })
        {
            await TimedAttemptAsync(slowId, T0 + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(ms / 100), ms, ok: false);
        }
        await TimedAttemptAsync(theirId, T0 + TimeSpan.FromMinutes(5), 9999, ok: true);
        // Outside the window.
        await TimedAttemptAsync(fastId, T0 + TimeSpan.FromHours(3), 5000, ok: true);

        var stats = await Store.DeliveryStatsAsync(m, T0, T0 + TimeSpan.FromHours(3), T0 + TimeSpan.FromDays(1));

        Assert.Equal([T0, T0 + TimeSpan.FromHours(1), T0 + TimeSpan.FromHours(2)], stats.Hours.Select(h => h.Hour));
        Assert.Equal([(19, 1), (0, 4), (0, 0)], stats.Hours.Select(h => (h.Succeeded, h.Failed)));
        var byEndpoint = stats.Endpoints.ToDictionary(e => e.EndpointId);
        Assert.Equal(2, byEndpoint.Count);
        Assert.Equal(new EndpointStats(fast.Id, 20, 19, 10, 19), byEndpoint[fast.Id]);
        Assert.Equal(new EndpointStats(slow.Id, 4, 0, 200, 400), byEndpoint[slow.Id]);
        Assert.Equal(0.95, byEndpoint[fast.Id].SuccessRate, 3);
    }

    [Fact]
    public async Task DeliveryStats_OfHoursBeforeTheMerchant_AreNeitherCountedNorKept()
    {
        var m = await MerchantAsync();
        var endpoint = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "e1", 1, "OPENED", endpoint.Id, T0));
        var id = (await Store.ListNotificationsAsync(m, new NotificationQuery())).Data[0].Id;
        await TimedAttemptAsync(id, T0 + TimeSpan.FromMinutes(5), 10, ok: true);
        var now = T0 + TimeSpan.FromDays(2);

        // A week a year before the merchant was made: every hour answered, empty, none kept.
        var before = await Store.DeliveryStatsAsync(m, T0 - TimeSpan.FromDays(365), T0 - TimeSpan.FromDays(358), now);
        Assert.Equal(168, before.Hours.Count);
        Assert.All(before.Hours, h => Assert.Equal(0, h.Succeeded + h.Failed));
        Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM attempt_hours"));

        // A week up to the day after: its hours from the one before the merchant's on are kept.
        var week = await Store.DeliveryStatsAsync(m, T0 - TimeSpan.FromDays(6), T0 + TimeSpan.FromDays(1), now);
        Assert.Equal(168, week.Hours.Count);
        Assert.Equal(1, week.Hours.Sum(h => h.Succeeded));
        Assert.Equal(25, await CountAsync("SELECT COUNT(*) FROM attempt_hours"));
        Assert.Equivalent(week, await Store.DeliveryStatsAsync(m, T0 - TimeSpan.FromDays(6), T0 + TimeSpan.FromDays(1), now), strict: true);
    }

    [Fact]
    public async Task DeliveryStats_OfAMerchantWithALongLogAndAFewAttemptsInTheWindow_CountThoseAlone_AResendOfAnOldOneIncluded()
    {
        // A log far longer than the window's attempts: the store may read the window first.
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        var ep = await EndpointAsync(m);
        var theirs = await EndpointAsync(other);
        for (var i = 0; i < 30; i++)
        {
            await Store.CommitChangeAsync(Change(m, $"old{i}", 1, "OPENED", ep.Id, T0));
        }
        await Store.CommitChangeAsync(Change(other, "o1", 1, "OPENED", theirs.Id, T0));
        var oldest = (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "old0" })).Data[0].Id;
        var newest = (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "old29" })).Data[0].Id;
        var theirId = (await Store.ListNotificationsAsync(other, new NotificationQuery())).Data[0].Id;

        var window = T0 + TimeSpan.FromDays(10);
        await TimedAttemptAsync(oldest, T0 + TimeSpan.FromMinutes(1), 7, ok: true);    // before the window
        await TimedAttemptAsync(oldest, window + TimeSpan.FromMinutes(10), 30, ok: true); // a resend days later
        await TimedAttemptAsync(newest, window + TimeSpan.FromMinutes(70), 50, ok: false);
        await TimedAttemptAsync(theirId, window + TimeSpan.FromMinutes(20), 9999, ok: true);

        var stats = await Store.DeliveryStatsAsync(m, window, window + TimeSpan.FromHours(2), window + TimeSpan.FromDays(1));

        Assert.Equal([(1, 0), (0, 1)], stats.Hours.Select(h => (h.Succeeded, h.Failed)));
        Assert.Equal([new EndpointStats(ep.Id, 2, 1, 30, 50)], stats.Endpoints);
        var theirStats = await Store.DeliveryStatsAsync(other, window, window + TimeSpan.FromHours(2), window + TimeSpan.FromDays(1));
        Assert.Equal([new EndpointStats(theirs.Id, 1, 1, 9999, 9999)], theirStats.Endpoints);
    }

    /// <summary>The stats of <paramref name="attempts"/> in [since, until), worked out here from each one, as the store must answer them.</summary>
    private static (List<HourlyAttempts> Hours, List<EndpointStats> Endpoints) StatsOf(
        IEnumerable<(DateTimeOffset At, string EndpointId, int Ms, bool Ok)> attempts, DateTimeOffset since, DateTimeOffset until)
    {
        var inWindow = attempts.Where(a => a.At >= since && a.At < until).ToList();
        var hours = new List<HourlyAttempts>();
        for (var hour = new DateTimeOffset(since.Year, since.Month, since.Day, since.Hour, 0, 0, TimeSpan.Zero); hour < until; hour += TimeSpan.FromHours(1))
        {
            var these = inWindow.Where(a => a.At >= hour && a.At < hour + TimeSpan.FromHours(1)).ToList();
            hours.Add(new HourlyAttempts(hour, these.Count(a => a.Ok), these.Count(a => !a.Ok)));
        }
        var endpoints = inWindow.GroupBy(a => a.EndpointId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var ms = g.Select(a => a.Ms).Order().ToList();
            int Rank(int p) => ms[(ms.Count * p + 99) / 100 - 1];
            return new EndpointStats(g.Key, ms.Count, g.Count(a => a.Ok), Rank(50), Rank(95));
        }).ToList();
        return (hours, endpoints);
    }

    private static void AssertStats((List<HourlyAttempts> Hours, List<EndpointStats> Endpoints) expected, DeliveryStats stats)
    {
        Assert.Equal(expected.Hours, stats.Hours);
        Assert.Equal(expected.Endpoints, stats.Endpoints);
    }

    [Fact]
    public async Task DeliveryStats_OfSettledHours_KeptOnceComputed_TheSameAnswerForAnyEdges_GoneWithRetentionAndErasure()
    {
        var m = await MerchantAsync();
        var other = await MerchantAsync("Other");
        var a = await EndpointAsync(m);
        var b = await EndpointAsync(m);
        var theirs = await EndpointAsync(other);
        await Store.CommitChangeAsync(Change(m, "a1", 1, "OPENED", a.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b1", 1, "OPENED", b.Id, T0));
        await Store.CommitChangeAsync(Change(m, "early", 1, "OPENED", a.Id, T0));
        await Store.CommitChangeAsync(Change(other, "o1", 1, "OPENED", theirs.Id, T0));
        async Task<string> NotificationOfAsync(string merchant, string entity) =>
            (await Store.ListNotificationsAsync(merchant, new NotificationQuery { EntityId = entity })).Data[0].Id;
        var (aId, bId, earlyId, theirId) = (await NotificationOfAsync(m, "a1"), await NotificationOfAsync(m, "b1"), await NotificationOfAsync(m, "early"), await NotificationOfAsync(other, "o1"));
        var recorded = new List<(string Id, string NotificationId, DateTimeOffset At, string EndpointId, int Ms, bool Ok)>();
        async Task AttemptAsync(string notificationId, string endpointId, DateTimeOffset at, int ms, bool ok)
        {
            var attempt = new Attempt(HeraldId.New(HeraldId.Attempt, new Clock(at)), notificationId, 1, AttemptTriggers.Manual, at, ms, ok ? 200 : 500, ok, ok ? null : "HTTP 500", null);
            await Store.RecordManualAttemptAsync(attempt);
            recorded.Add((attempt.Id, notificationId, at, endpointId, ms, ok));
        }
        // Six hours of attempts from T0, durations repeating so that the percentiles come from counts.
        for (var h = 0; h < 6; h++)
        {
            for (var i = 0; i < 8; i++)
            {
                var at = T0 + TimeSpan.FromHours(h) + TimeSpan.FromMinutes(i * 7 + 3);
                await AttemptAsync(i % 2 == 0 ? aId : bId, i % 2 == 0 ? a.Id : b.Id, at, (h * 8 + i) * 37 % 90 + 1, (h + i) % 3 != 0);
            }
        }
        // A notification whose attempts are all in the second hour, the last one a success.
        await AttemptAsync(earlyId, a.Id, T0 + TimeSpan.FromMinutes(65), 500, ok: false);
        await AttemptAsync(earlyId, a.Id, T0 + TimeSpan.FromMinutes(75), 7, ok: true);
        await AttemptAsync(theirId, theirs.Id, T0 + TimeSpan.FromMinutes(200), 9999, ok: true);
        IEnumerable<(DateTimeOffset, string, int, bool)> Mine() => recorded.Where(r => r.NotificationId != theirId).Select(r => (r.At, r.EndpointId, r.Ms, r.Ok));

        // Five minutes after the sixth hour: the first five have settled, the sixth has not.
        var now = T0 + TimeSpan.FromHours(6) + TimeSpan.FromMinutes(5);
        (DateTimeOffset Since, DateTimeOffset Until)[] windows =
        [
            (T0 + TimeSpan.FromMinutes(20), T0 + TimeSpan.FromMinutes(340)),
            (T0 + TimeSpan.FromMinutes(90), T0 + TimeSpan.FromMinutes(250)),
            (T0, now),
            (T0 + TimeSpan.FromMinutes(61), T0 + TimeSpan.FromMinutes(62)),
            (T0 + TimeSpan.FromHours(2), T0 + TimeSpan.FromHours(4)),
        ];
        // Reads at once (as on several nodes) keep each hour once, each answering in full.
        foreach (var stats in await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Store.DeliveryStatsAsync(m, T0, now, now))))
        {
            AssertStats(StatsOf(Mine(), T0, now), stats);
        }
        foreach (var (since, until) in windows.Concat(windows))
        {
            AssertStats(StatsOf(Mine(), since, until), await Store.DeliveryStatsAsync(m, since, until, now));
        }
        AssertStats(StatsOf(recorded.Where(r => r.NotificationId == theirId).Select(r => (r.At, r.EndpointId, r.Ms, r.Ok)), T0, now),
            await Store.DeliveryStatsAsync(other, T0, now, now));

        // The retention takes the early notification (its attempts started before the cutoff) and
        // the figures kept of the hours that began before the cutoff: the stats say what is left.
        var cutoff = T0 + TimeSpan.FromMinutes(150);
        Assert.Equal(1, await Store.PurgeAsync(cutoff, 100));
        recorded.RemoveAll(r => r.NotificationId == earlyId);
        foreach (var (since, until) in windows)
        {
            AssertStats(StatsOf(Mine(), since, until), await Store.DeliveryStatsAsync(m, since, until, now));
        }

        // An attempt taken from the table behind Herald's back: gone from a settled hour, the
        // answer stands (that hour is not read again); gone from the unsettled sixth, it counts no more.
        var settled = recorded.First(r => r.NotificationId == aId && r.At >= T0 + TimeSpan.FromHours(3));
        var unsettled = recorded.Last(r => r.NotificationId == aId);
        Assert.True(unsettled.At >= T0 + TimeSpan.FromHours(5));
        var before = StatsOf(Mine(), T0, now);
        await CountAsync($"DELETE FROM attempts WHERE id = '{settled.Id}' RETURNING started_at");
        await CountAsync($"DELETE FROM attempts WHERE id = '{unsettled.Id}' RETURNING started_at");
        recorded.Remove(unsettled);
        AssertStats(StatsOf(Mine(), T0, now), await Store.DeliveryStatsAsync(m, T0, now, now));
        Assert.NotEqual(before.Hours, StatsOf(Mine(), T0, now).Hours);

        // Erased, the merchant has no stats left, kept or not; the other merchant's stay.
        Assert.True(await Store.EraseMerchantDataAsync(m));
        var erased = await Store.DeliveryStatsAsync(m, T0, now, now);
        Assert.All(erased.Hours, h => Assert.Equal((0, 0), (h.Succeeded, h.Failed)));
        Assert.Empty(erased.Endpoints);
        Assert.Equal([new EndpointStats(theirs.Id, 1, 1, 9999, 9999)], (await Store.DeliveryStatsAsync(other, T0, now, now)).Endpoints);
    }

    /// <summary>A merchant with one attempt, a success 10 minutes into <see cref="T0"/>'s hour, of a notification of its own.</summary>
    private async Task<(string Merchant, Endpoint Endpoint)> MerchantWithAnAttemptAsync()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "po", 1, "OPENED", ep.Id, T0));
        await TimedAttemptAsync((await Store.ListNotificationsAsync(m, new NotificationQuery())).Data[0].Id, T0 + TimeSpan.FromMinutes(10), 20, ok: true);
        return (m, ep);
    }

    [Fact]
    public async Task DeliveryStats_KeepingAnHour_ChangesAreRecordedWhileItsAttemptsAreCounted()
    {
        var (m, ep) = await MerchantWithAnAttemptAsync();
        var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((RelationalStore)Store).HourCounted = async _ =>
        {
            counted.TrySetResult();
            await release.Task;
        };
        var now = T0 + TimeSpan.FromHours(2);
        var read = Store.DeliveryStatsAsync(m, T0, now, now);
        try
        {
            await counted.Task.WaitAsync(TimeSpan.FromSeconds(10));

            // The read holds its count of T0's hour, to keep it: a change is recorded meanwhile.
            Assert.Equal(CommitResult.Committed, await Store.CommitChangeAsync(Change(m, "po2", 1, "OPENED", ep.Id, now)).WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            release.TrySetResult();
        }
        Assert.Equal([(1, 0), (0, 0)], (await read).Hours.Select(h => (h.Succeeded, h.Failed)));
        ((RelationalStore)Store).HourCounted = null;
        Assert.Equal([(1, 0), (0, 0)], (await Store.DeliveryStatsAsync(m, T0, now, now)).Hours.Select(h => (h.Succeeded, h.Failed)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliveryStats_OfAnHourCountedAsItsAttemptsAreErasedOrPurged_AreNotKept_LaterReadsCountWhatIsLeft(bool purged)
    {
        var (m, _) = await MerchantWithAnAttemptAsync();
        var now = T0 + TimeSpan.FromHours(4);
        // Between the read's count of T0's hour and its keeping of it, the merchant's data is erased,
        // or the retention purges the notification (its attempt before the cutoff).
        var deleted = false;
        ((RelationalStore)Store).HourCounted = async _ =>
        {
            if (!deleted)
            {
                deleted = true;
                if (purged)
                {
                    Assert.Equal(1, await Store.PurgeAsync(T0 + TimeSpan.FromHours(3), 100).WaitAsync(TimeSpan.FromSeconds(10)));
                }
                else
                {
                    Assert.True(await Store.EraseMerchantDataAsync(m).WaitAsync(TimeSpan.FromSeconds(10)));
                }
            }
        };
        await Store.DeliveryStatsAsync(m, T0, now, now);
        ((RelationalStore)Store).HourCounted = null;
        Assert.True(deleted);

        var later = await Store.DeliveryStatsAsync(m, T0, now, now);
        Assert.All(later.Hours, h => Assert.Equal((0, 0), (h.Succeeded, h.Failed)));
        Assert.Empty(later.Endpoints);
    }

    [Fact]
    public async Task DeliveryStats_WhoseHoursFailToBeKept_AnswerFromTheirCounts_LaterReadsCountThemAgain_ACancelledReadStillEnds()
    {
        var (m, _) = await MerchantWithAnAttemptAsync();
        var now = T0 + TimeSpan.FromHours(4);
        var hours = new List<DateTimeOffset>();
        // Keeping T0's hour fails, as a lock wait behind an erasure timing out would, or a database file gone.
        ((RelationalStore)Store).HourCounted = hour =>
        {
            hours.Add(hour);
            throw new TimeoutException("Timeout during reading attempt");
        };
        var stats = await Store.DeliveryStatsAsync(m, T0, now, now);
        Assert.Equal([(1, 0), (0, 0), (0, 0), (0, 0)], stats.Hours.Select(h => (h.Succeeded, h.Failed)));
        Assert.Equal([T0], hours);

        // Nothing was kept: the next read counts T0's hour again, and keeps it and the two after it.
        hours.Clear();
        ((RelationalStore)Store).HourCounted = hour =>
        {
            hours.Add(hour);
            return Task.CompletedTask;
        };
        Assert.Equal(stats.Hours, (await Store.DeliveryStatsAsync(m, T0, now, now)).Hours);
        Assert.Equal([T0, T0 + TimeSpan.FromHours(1), T0 + TimeSpan.FromHours(2)], hours);

        // A read its caller gives up on while it keeps an hour (the two hours settled since) ends so, rather than answering.
        now += TimeSpan.FromHours(2);
        using var cancel = new CancellationTokenSource();
        ((RelationalStore)Store).HourCounted = _ =>
        {
            cancel.Cancel();
            cancel.Token.ThrowIfCancellationRequested();
            return Task.CompletedTask;
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.DeliveryStatsAsync(m, T0, now, now, cancel.Token));
        ((RelationalStore)Store).HourCounted = null;
    }

    [Fact]
    public async Task CountNotificationsByStatus_HonoursTheFilters_AndNamesEveryStatus()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(await MerchantAsync("Other"), "c", 1, "OPENED", (await EndpointAsync(await MerchantAsync("Third"))).Id, T0));
        var a = (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "a" })).Data[0];
        await Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Time), a.Id, 1, AttemptTriggers.Manual, T0, 5, 200, true, null, null));

        var all = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { Status = NotificationStatuses.Dead });
        Assert.Equal(1, all[NotificationStatuses.Pending]);
        Assert.Equal(1, all[NotificationStatuses.Succeeded]);
        Assert.Equal(0, all[NotificationStatuses.Dead]);
        var onlyB = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EntityId = "b" });
        Assert.Equal(1, onlyB[NotificationStatuses.Pending]);
        Assert.Equal(0, onlyB[NotificationStatuses.Succeeded]);
    }

    [Fact]
    public async Task CountNotificationsByStatus_OfOneEndpoint_CountsItsAlone_WithOrWithoutACap()
    {
        var m = await MerchantAsync();
        var busy = await EndpointAsync(m);
        var quiet = await EndpointAsync(m);
        var other = await MerchantAsync("Other");
        var theirs = await EndpointAsync(other);
        for (var i = 0; i < 4; i++)
        {
            await Store.CommitChangeAsync(Change(m, "b" + i, 1, "OPENED", busy.Id, T0 + TimeSpan.FromSeconds(i)));
        }
        await Store.CommitChangeAsync(Change(m, "q", 1, "OPENED", quiet.Id, T0 + TimeSpan.FromSeconds(5)));
        await Store.CommitChangeAsync(Change(other, "t", 1, "OPENED", theirs.Id, T0));
        var ofQuiet = (await Store.ListNotificationsAsync(m, new NotificationQuery { EndpointId = quiet.Id })).Data.Single();
        await Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Time), ofQuiet.Id, 1, AttemptTriggers.Manual, T0, 5, 200, true, null, null));

        foreach (var cap in new int?[] { null, 10 })
        {
            var quietCounts = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EndpointId = quiet.Id }, cap);
            Assert.Equal((1L, 0L), (quietCounts[NotificationStatuses.Succeeded], quietCounts[NotificationStatuses.Pending]));
            var busyCounts = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EndpointId = busy.Id, Status = NotificationStatuses.Dead }, cap);
            Assert.Equal((0L, 4L), (busyCounts[NotificationStatuses.Succeeded], busyCounts[NotificationStatuses.Pending]));
            // Another merchant's endpoint counts nothing of theirs.
            Assert.All(await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EndpointId = theirs.Id }, cap), c => Assert.Equal(0, c.Value));
        }
        Assert.Equal(2, (await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EndpointId = busy.Id }, newest: 2))[NotificationStatuses.Pending]);
        Assert.Empty((await Store.ListNotificationsAsync(m, new NotificationQuery { EndpointId = theirs.Id })).Data);
    }

    [Fact]
    public async Task CountNotificationsByStatus_WithACap_CountsOnlyTheNewestThatMatch()
    {
        var m = await MerchantAsync();
        var ep = await EndpointAsync(m);
        await Store.CommitChangeAsync(Change(m, "a", 1, "OPENED", ep.Id, T0));
        await Store.CommitChangeAsync(Change(m, "b", 1, "OPENED", ep.Id, T0 + TimeSpan.FromSeconds(1)));
        await Store.CommitChangeAsync(Change(m, "c", 1, "OPENED", ep.Id, T0 + TimeSpan.FromSeconds(2)));
        var oldest = (await Store.ListNotificationsAsync(m, new NotificationQuery { EntityId = "a" })).Data[0];
        await Store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Time), oldest.Id, 1, AttemptTriggers.Manual, T0, 5, 200, true, null, null));

        var newest = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery(), newest: 2);
        Assert.Equal(2, newest[NotificationStatuses.Pending]);
        Assert.Equal(0, newest[NotificationStatuses.Succeeded]);
        Assert.Equal(0, newest[NotificationStatuses.Dead]);
        var all = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery(), newest: 10);
        Assert.Equal(2, all[NotificationStatuses.Pending]);
        Assert.Equal(1, all[NotificationStatuses.Succeeded]);
        // The cap counts the newest of those the filters keep, not of the whole log.
        var onlyA = await Store.CountNotificationsByStatusAsync(m, new NotificationQuery { EntityId = "a" }, newest: 1);
        Assert.Equal(1, onlyA[NotificationStatuses.Succeeded]);
        Assert.Equal(0, onlyA[NotificationStatuses.Pending]);
    }

    [Fact]
    public async Task ListPreferences_ReturnsOnlyTheMerchants_NewestFirst_APageAtATime()
    {
        var m = await MerchantAsync();
        var first = new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, Time), m, new JsonObject { ["external_reference"] = "one" }, null, T0);
        var second = new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, new Clock(T0 + TimeSpan.FromSeconds(1))), m, new JsonObject(), null, T0);
        await Store.CreatePreferenceAsync(first, null);
        await Store.CreatePreferenceAsync(second, null);
        await Store.CreatePreferenceAsync(new CheckoutPreference(HeraldId.New(HeraldId.CheckoutPreference, Time), await MerchantAsync("Other"), new JsonObject(), null, T0), null);

        var list = await Store.ListPreferencesAsync(m, 10, null, null);
        Assert.Equal([second.Id, first.Id], list.Data.Select(p => p.Id));
        Assert.False(list.HasMore);
        Assert.Equal("one", list.Data[1].Document["external_reference"]!.GetValue<string>());

        var newest = await Store.ListPreferencesAsync(m, 1, null, null);
        Assert.Equal([second.Id], newest.Data.Select(p => p.Id));
        Assert.True(newest.HasMore);
        var older = await Store.ListPreferencesAsync(m, 1, second.Id, null);
        Assert.Equal([first.Id], older.Data.Select(p => p.Id));
        Assert.False(older.HasMore);
        var back = await Store.ListPreferencesAsync(m, 1, null, first.Id);
        Assert.Equal([second.Id], back.Data.Select(p => p.Id));
        Assert.False(back.HasMore);
    }

    [Fact]
    public async Task ListMerchants_NewestFirst_APageAtATime_WithoutTheOperatorsOwn_AndARenameShows()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, new Clock(T0 + TimeSpan.FromSeconds(i))), $"M{i}", T0 + TimeSpan.FromSeconds(i));
            await Store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, Time), merchant.Id, Guid.NewGuid().ToString("N"), T0));
            ids.Add(merchant.Id);
        }
        // The operator's reserved merchant (made by the migrations) is in the table, not in the list.
        var all = await Store.ListMerchantsAsync(10, null, null);
        Assert.Equal([ids[2], ids[1], ids[0]], all.Data.Select(m => m.Id));
        Assert.Equal(["M2", "M1", "M0"], all.Data.Select(m => m.Name));
        Assert.Equal(T0 + TimeSpan.FromSeconds(2), all.Data[0].CreatedAt);
        Assert.False(all.HasMore);
        var first = await Store.ListMerchantsAsync(2, null, null);
        Assert.True(first.HasMore);
        Assert.Equal([ids[0]], (await Store.ListMerchantsAsync(2, ids[1], null)).Data.Select(m => m.Id));

        Assert.True(await Store.RenameMerchantAsync(ids[0], "Renamed"));
        Assert.Equal("Renamed", (await Store.GetMerchantAsync(ids[0]))!.Name);
        Assert.Equal("M1", (await Store.GetMerchantAsync(ids[1]))!.Name);
        Assert.False(await Store.RenameMerchantAsync("mer_missing", "X"));
        Assert.False(await Store.RenameMerchantAsync(OperatorEventTypes.OperatorMerchantId, "X"));
    }
}
