using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    // Ids sort by the time they were made: bounded by the cutoff's least id, the walk along the id
    // index stops there instead of reading every younger row to find none (a full scan every hour,
    // holding SQLite's one writer). A row made before the cutoff whose created_at says later is
    // left for a later purge. A notification attempted since the cutoff (delivered late, resent by
    // hand) stays until its last attempt is as old.
    private const string PurgeBatch =
        "SELECT id FROM notifications WHERE id < @floor AND created_at < @cutoff AND status <> 'pending'" +
        " AND COALESCE(last_attempt_at, created_at) < @cutoff ORDER BY id LIMIT @batch";

    /// <summary>
    /// Where writers run at once, what a purge takes before it holds any row: the tables it deletes
    /// from, in the order a merchant's erasure locks them, so that the two never wait for each other
    /// in a circle. Null where one writer runs at a time.
    /// </summary>
    protected virtual string? PurgeTableLocks(string first, string second) => null;

    /// <summary>
    /// Where writers run at once, what a purge takes before it deletes kept stats, so that a stats
    /// read keeping an hour meanwhile (<see cref="KeptHoursLock"/>) either goes first, its figures
    /// deleted, or waits and sees the epoch the purge moved on. Null where one writer runs at a time.
    /// </summary>
    protected virtual string? KeptHoursPurgeLock => null;

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, int batch, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (PurgeTableLocks("notifications", "attempts") is { } locks)
        {
            await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
        }
        // The batch is picked once, its rows held (see LockedForPurge) so that no attempt is recorded
        // for them meanwhile, and then their attempts and they are deleted. (Picked afresh by each
        // statement, the batch could shift between them where writers run at once, another node
        // purging or a notification settling meanwhile, and attempts outlived their notification.)
        var ids = (await scope.Connection.QueryAsync<string>(scope.Command(
            PurgeBatch + LockedForPurge, new { floor = Ids.HeraldId.Floor(Ids.HeraldId.Notification, cutoff), cutoff = Time.Ms(cutoff), batch }, cancellationToken))).AsList();
        var deleted = 0;
        if (ids.Count > 0)
        {
            var parameters = new DynamicParameters();
            var list = InList(parameters, "n", ids);
            // In the order of their merchants, so that purges on several nodes take their rows in one order.
            await scope.Connection.ExecuteAsync(scope.Command(
                $"INSERT INTO attempt_hour_epochs (merchant_id, epoch) SELECT DISTINCT merchant_id, 1 FROM notifications WHERE id IN ({list}) ORDER BY merchant_id {NextEpoch}",
                parameters, cancellationToken));
            await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM attempts WHERE notification_id IN ({list})", parameters, cancellationToken));
            deleted = await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM notifications WHERE id IN ({list})", parameters, cancellationToken));
        }
        // The kept stats of every hour that began before the cutoff, whose attempts this purge (or
        // an earlier one) may have taken: a stats read counts such an hour again from what is left,
        // and keeps that until the next purge.
        if (KeptHoursPurgeLock is { } kept)
        {
            await scope.Connection.ExecuteAsync(scope.Command(kept, null, cancellationToken));
        }
        var hour = new { hour = (Time.Ms(cutoff) + HourMs - 1) / HourMs };
        await scope.Connection.ExecuteAsync(scope.Command("DELETE FROM attempt_hour_durations WHERE hour < @hour", hour, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command("DELETE FROM attempt_hours WHERE hour < @hour", hour, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return deleted;
    }

    // An event a notification still refers to (one still pending, or not yet old enough to go)
    // stays: the notification's payload may be the event's snapshot, and its key refers to the
    // event. So does each entity's latest event, whose snapshot is the entity's document. Those
    // kept pile up below the cutoff (an entity's latest event, for every entity), so the purge
    // walks the events a window at a time from a cursor, rather than from the first each time.
    private string EventPurgeWindow =>
        "SELECT id FROM events ev WHERE id > @after AND id <= @end AND occurred_at < @cutoff" +
        " AND NOT EXISTS (SELECT 1 FROM notifications WHERE notifications.event_id = ev.id)" +
        $" AND NOT EXISTS (SELECT 1 FROM entities WHERE {EventOfEntityVersion} AND entities.version = ev.version)";

    public async Task<(int Deleted, string? Next)> PurgeEventsAsync(DateTimeOffset cutoff, string after, int window, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(after);
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (PurgeTableLocks("events", "idempotency_keys") is { } locks)
        {
            await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
        }
        // The window: the next ids after the cursor, short of the cutoff's least id.
        var end = await scope.Connection.ExecuteScalarAsync<string?>(scope.Command(
            "SELECT MAX(id) FROM (SELECT id FROM events WHERE id > @after AND id < @floor ORDER BY id LIMIT @window) w",
            new { after, floor = Ids.HeraldId.Floor(Ids.HeraldId.Event, cutoff), window }, cancellationToken));
        if (end is null)
        {
            return (0, null);
        }
        var ids = (await scope.Connection.QueryAsync<string>(scope.Command(
            EventPurgeWindow + LockedForPurge, new { after, end, cutoff = Time.Ms(cutoff) }, cancellationToken))).AsList();
        var deleted = 0;
        if (ids.Count > 0)
        {
            var parameters = new DynamicParameters();
            var list = InList(parameters, "e", ids);
            // A key naming a purged event would answer its retried request with nothing to answer from.
            await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM idempotency_keys WHERE event_id IN ({list})", parameters, cancellationToken));
            deleted = await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM events WHERE id IN ({list})", parameters, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return (deleted, end);
    }

    /// <summary>
    /// What follows the purge's choice of a batch so that its rows stay as chosen until the purge
    /// commits: nothing where one writer runs at a time; a row lock where several do.
    /// </summary>
    protected virtual string LockedForPurge => "";

    /// <summary>
    /// The statements that erase a merchant's notifications and their attempts (parameter
    /// <c>@merchantId</c>; <paramref name="range"/> narrows them, <c>AND id &lt;= @last</c>), in order.
    /// With one writer at a time, attempts go first (their key refers to the notification); where
    /// writers run at once, a store deletes the notifications first and then the attempts of those
    /// it deleted, in a statement of its own, so that an attempt another transaction was recording
    /// meanwhile is either seen and deleted, or finds its notification gone and writes nothing.
    /// </summary>
    protected virtual IReadOnlyList<string> EraseNotificationsSql(string range) =>
    [
        $"DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications WHERE merchant_id = @merchantId{range})",
        $"DELETE FROM notifications WHERE merchant_id = @merchantId{range}",
    ];

    /// <summary>
    /// Where writers run at once, what an erasure's last transaction takes first: every table it
    /// deletes from, so that changes being recorded finish first and new ones wait for it. Null
    /// where one writer runs at a time.
    /// </summary>
    protected virtual string? EraseTableLocks => null;

    /// <summary>
    /// How many notifications (with their attempts), or events, one transaction of a merchant's
    /// erasure takes before the next: a merchant of 1.6 million notifications erased in one held
    /// SQLite's writer, and every other merchant's changes, for 14 s.
    /// </summary>
    internal int EraseBatch { get; set; } = 2_000;

    /// <summary>
    /// The column an erasure's batches of a merchant's events walk in order, each from where the
    /// last ended: one an index holds a merchant's events by (SQLite's <c>events_merchant</c>, by id).
    /// A batch ends at a whole value: all the events with its last value are in it.
    /// </summary>
    protected virtual string EraseEventsBy => "id";

    /// <summary>Called between an erasure's transactions (for tests: what other writers may do meanwhile).</summary>
    internal Func<Task>? BetweenEraseBatches { get; set; }

    private Task BetweenBatchesAsync() => BetweenEraseBatches?.Invoke() ?? Task.CompletedTask;

    public async Task<bool> EraseMerchantDataAsync(string merchantId, CancellationToken cancellationToken = default)
    {
        await using (var connection = await OpenAsync(cancellationToken))
        {
            var exists = await connection.ExecuteScalarAsync<long>(Read(
                "SELECT COUNT(*) FROM merchants WHERE id = @merchantId AND id <> @operatorId",
                new { merchantId, operatorId = OperatorEventTypes.OperatorMerchantId }, cancellationToken));
            if (exists == 0)
            {
                return false;
            }
        }
        // The bulk, a batch a transaction, other writers going on between them: the notifications
        // with their attempts, then the events nothing refers to any more (not an entity's latest,
        // whose snapshot may be its document, until the entity goes too).
        // Each batch locks many rows of the hot tables, which the delivery's batches lock in another
        // order: one the database undid to break a cycle is made again.
        while (await WriteAgainIfRaceLostAsync(() => EraseNotificationBatchAsync(merchantId, cancellationToken)) == EraseBatch)
        {
            await BetweenBatchesAsync();
        }
        // From a cursor: the events kept (entities' latest) are passed once, not at every batch.
        for (var after = ""; await WriteAgainIfRaceLostAsync(() => EraseEventBatchAsync(merchantId, after, cancellationToken)) is { Count: var count, Last: { } last } && count == EraseBatch; after = last)
        {
            await BetweenBatchesAsync();
        }
        await BetweenBatchesAsync();
        // The rest in one transaction, new changes waiting for it: what was recorded meanwhile, the
        // entities and their latest events, the keys, the resends and the stats kept.
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (EraseTableLocks is { } everything)
        {
            await scope.Connection.ExecuteAsync(scope.Command(everything, null, cancellationToken));
        }
        foreach (var sql in EraseNotificationsSql("").Concat(
        [
            "DELETE FROM idempotency_keys WHERE merchant_id = @merchantId",
            "DELETE FROM resends WHERE merchant_id = @merchantId",
            "DELETE FROM events WHERE merchant_id = @merchantId",
            "DELETE FROM entities WHERE merchant_id = @merchantId",
            "DELETE FROM attempt_hour_durations WHERE merchant_id = @merchantId",
            "DELETE FROM attempt_hours WHERE merchant_id = @merchantId",
            $"INSERT INTO attempt_hour_epochs (merchant_id, epoch) VALUES (@merchantId, 1) {NextEpoch}",
        ]))
        {
            await scope.Connection.ExecuteAsync(scope.Command(sql, new { merchantId }, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Erases up to <see cref="EraseBatch"/> of the merchant's notifications, oldest first, with their attempts; answers how many.</summary>
    private async Task<int> EraseNotificationBatchAsync(string merchantId, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        // Taken as a purge takes them: other writers go on, the rows deleted waiting for any
        // transaction under way on them (an attempt being recorded is deleted with its notification,
        // or finds it gone).
        if (PurgeTableLocks("notifications", "attempts") is { } locks)
        {
            await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
        }
        // The batch as a range of ids, deleted as the whole erasure deletes (a list of two thousand
        // ids to bind took five times as long).
        // Its rows held first, as the purge holds its batch before it moves any merchant's epoch:
        // the two take their locks in one order, and never wait for each other in a circle.
        var batch = await scope.Connection.QuerySingleAsync<EraseRange>(scope.Command(
            $"SELECT COUNT(*) AS count, MAX(id) AS last FROM (SELECT id FROM notifications WHERE merchant_id = @merchantId ORDER BY id LIMIT @batch{LockedForPurge}) b",
            new { merchantId, batch = EraseBatch }, cancellationToken));
        if (batch.count > 0)
        {
            var parameters = new { merchantId, batch.last };
            // Stats kept of them are counted again from what is left (see PurgeAsync).
            await scope.Connection.ExecuteAsync(scope.Command($"INSERT INTO attempt_hour_epochs (merchant_id, epoch) VALUES (@merchantId, 1) {NextEpoch}", parameters, cancellationToken));
            foreach (var sql in EraseNotificationsSql(" AND id <= @last"))
            {
                await scope.Connection.ExecuteAsync(scope.Command(sql, parameters, cancellationToken));
            }
        }
        await scope.CommitAsync(cancellationToken);
        return (int)batch.count;
    }

    private sealed class EraseRange
    {
        public long count { get; set; }
        public string? last { get; set; }
    }

    /// <summary>
    /// Erases, of the next <see cref="EraseBatch"/> of the merchant's events after <paramref name="after"/>
    /// (oldest first), those no notification refers to and that are no entity's latest, with the
    /// idempotency keys that named them; answers how many it looked at, and the last of them.
    /// </summary>
    private async Task<(int Count, string? Last)> EraseEventBatchAsync(string merchantId, string after, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (PurgeTableLocks("events", "idempotency_keys") is { } locks)
        {
            await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
        }
        var by = EraseEventsBy;
        var batch = await scope.Connection.QuerySingleAsync<EraseRange>(scope.Command(
            $"SELECT COUNT(*) AS count, MAX({by}) AS last FROM (SELECT {by} FROM events WHERE merchant_id = @merchantId AND {by} > @after ORDER BY {by} LIMIT @batch) b",
            new { merchantId, after, batch = EraseBatch }, cancellationToken));
        if (batch.count > 0)
        {
            var erasable = $"merchant_id = @merchantId AND ev.{by} > @after AND ev.{by} <= @last"
                + " AND NOT EXISTS (SELECT 1 FROM notifications WHERE notifications.event_id = ev.id)"
                + $" AND NOT EXISTS (SELECT 1 FROM entities WHERE {EventOfEntityVersion} AND entities.version = ev.version)";
            var parameters = new { merchantId, after, batch.last };
            // The events held before their keys are deleted, in the order the purge takes them
            // (by id, whatever order the batch was chosen in).
            if (LockedForPurge.Length > 0)
            {
                await scope.Connection.ExecuteAsync(scope.Command($"SELECT 1 FROM events ev WHERE {erasable} ORDER BY ev.id{LockedForPurge}", parameters, cancellationToken));
            }
            // A key naming an erased event would answer its retried request with nothing to answer from.
            await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM idempotency_keys WHERE event_id IN (SELECT id FROM events ev WHERE {erasable})", parameters, cancellationToken));
            await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM events AS ev WHERE {erasable}", parameters, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return ((int)batch.count, batch.last);
    }
}
