using System.Data;
using System.Data.Common;
using Dapper;
using Herald.Entities;
using Herald.Events;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    private const string EventColumns = "id, merchant_id, entity_kind, entity_id, type, from_state, to_state, version, occurred_at, snapshot";

    public async Task<Entity?> GetEntityAsync(string merchantId, EntityKind kind, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<EntityRow>(Read(
            $"SELECT kind, id, merchant_id, state, version, preference_id, {DocumentColumn}, created_at, updated_at FROM entities WHERE kind = @kind AND id = @id AND merchant_id = @merchantId",
            new { kind = kind.ApiName(), id, merchantId }, cancellationToken));
        return row?.ToModel();
    }

    public async Task<CommitResult> CommitChangeAsync(EntityChange change, CancellationToken cancellationToken = default) =>
        (await CommitChangesAsync([change], cancellationToken))[0];

    public async Task<IReadOnlyList<CommitResult>> CommitChangesAsync(IReadOnlyList<EntityChange> changes, CancellationToken cancellationToken = default) =>
        (await WriteBatchAsync(changes, [], null, cancellationToken)).Changes;

    public async Task<(IReadOnlyList<CommitResult> Changes, IReadOnlyList<bool> Attempts)> WriteBatchAsync(
        IReadOnlyList<EntityChange> changes, IReadOnlyList<AttemptOutcome> outcomes, NotificationLease? lease = null, CancellationToken cancellationToken = default,
        Func<WriteRound?>? more = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(outcomes);
        // What does not depend on the database is made before the write begins: on SQLite a write
        // holds the one writer's turn. (Rounds taken on later are made with the transaction open.)
        var rounds = new List<Round> { new(changes, outcomes, lease) };
        // Written again (every round taken so far), it answers as if it had come a moment later (a
        // change whose entity moved on meanwhile is then a conflict).
        return await WriteAgainIfRaceLostAsync(() => WriteBatchOnceAsync(rounds, more, cancellationToken));
    }

    /// <summary>What one round of a batch writes, its rows made before it is written.</summary>
    private sealed class Round(IReadOnlyList<EntityChange> changes, IReadOnlyList<AttemptOutcome> outcomes, NotificationLease? lease)
    {
        public ChangeWrite? Changes { get; } = changes.Count == 0 ? null : new ChangeWrite(changes, lease);

        public AttemptWrite? Attempts { get; } = outcomes.Count == 0 ? null : new AttemptWrite(outcomes);
    }

    private async Task<(IReadOnlyList<CommitResult> Changes, IReadOnlyList<bool> Attempts)> WriteBatchOnceAsync(
        List<Round> rounds, Func<WriteRound?>? more, CancellationToken cancellationToken)
    {
        var first = rounds[0];
        if (WritesBatchesAtOnce && (first.Changes is null || first.Changes.AllInOneStatement))
        {
            var (taken, moved) = await WriteAtOnceAsync(first.Changes?.Rows, first.Attempts?.Moves, first.Attempts?.Attempts, cancellationToken);
            return (first.Changes is null ? [] : first.Changes.Answer(taken), first.Attempts is null ? [] : first.Attempts.Answer(moved));
        }
        await using var scope = await BeginBatchWriteAsync(cancellationToken);
        var changed = new List<CommitResult>();
        var recorded = new List<bool>();
        for (var r = 0; ; r++)
        {
            if (r == rounds.Count)
            {
                // What arrived while the rounds so far were written shares their commit. A store that
                // writes batches in one round trip (several writers at once) asks for none: rows
                // taken later would be locked out of the batch's key order.
                if (WritesBatchesAtOnce || more?.Invoke() is not { } next)
                {
                    break;
                }
                rounds.Add(new Round(next.Changes, next.Outcomes, next.Lease));
            }
            var round = rounds[r];
            if (round.Changes is { } changeWrite)
            {
                changed.AddRange(await changeWrite.WriteAsync(this, scope, cancellationToken));
            }
            if (round.Attempts is { } attemptWrite)
            {
                recorded.AddRange(await attemptWrite.WriteAsync(this, scope, cancellationToken));
            }
        }
        if (changed.Contains(CommitResult.Committed) || recorded.Contains(true))
        {
            await scope.CommitAsync(cancellationToken);
        }
        return (changed, recorded);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> in the scope's transaction and answers the changes that took:
    /// those <see cref="ChangeRows.Written"/> already, the creates whose id was free and the updates
    /// whose entity was still at the version they expected. When any of their notifications is
    /// claimable, the database announces the work (see <see cref="OnWorkRecordedAsync"/>).
    /// </summary>
    protected abstract Task<IReadOnlyCollection<int>> InsertChangesAsync(WriteScope scope, ChangeRows rows, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="WriteAtOnceAsync"/> writes a batch whose changes all go in by the batch's statement.</summary>
    protected virtual bool WritesBatchesAtOnce => false;

    /// <summary>
    /// Writes and commits a batch in one go (where <see cref="WritesBatchesAtOnce"/>): the changes, every
    /// one of them going in by the batch's statement (see <see cref="InsertChangesAsync"/>), and the
    /// outcomes (see <see cref="RecordAttemptsAsync"/>); answers the changes that took and the notifications moved.
    /// </summary>
    protected virtual Task<(IReadOnlyCollection<int> Taken, IReadOnlyCollection<string> Moved)> WriteAtOnceAsync(
        ChangeRows? changes, RowSet? moves, RowSet? attempts, CancellationToken cancellationToken) =>
        throw new NotSupportedException("this store writes a batch a statement at a time");

    /// <summary>Inserts every row of <paramref name="rows"/> into <paramref name="table"/>, in the scope's transaction.</summary>
    protected abstract Task InsertRowsAsync(WriteScope scope, string table, RowSet rows, CancellationToken cancellationToken);

    private static RowSet NewEntityRows() => new(
        ("kind", DbType.String), ("id", DbType.String), ("merchant_id", DbType.String), ("state", DbType.String), ("version", DbType.Int64),
        ("preference_id", DbType.String), ("document", DbType.String), ("created_at", DbType.Int64), ("updated_at", DbType.Int64));

    /// <summary>An entity's new state, and the version it must still be at for the update to take.</summary>
    private static RowSet NewUpdateRows() => new(
        ("kind", DbType.String), ("id", DbType.String), ("merchant_id", DbType.String), ("state", DbType.String), ("version", DbType.Int64),
        ("document", DbType.String), ("updated_at", DbType.Int64), ("expected", DbType.Int64));

    /// <summary>
    /// The statement that updates an entity, given how to name each column of <see cref="NewUpdateRows"/> (numbered from 1):
    /// it changes no row unless the entity is still at the expected version.
    /// </summary>
    protected static string UpdateEntitySql(Func<int, string> column, string from = "")
    {
        ArgumentNullException.ThrowIfNull(column);
        return $"UPDATE entities SET state = {column(4)}, version = {column(5)}, document = {column(6)}, updated_at = {column(7)}{from} " +
            $"WHERE entities.kind = {column(1)} AND entities.id = {column(2)} AND entities.merchant_id = {column(3)} AND entities.version = {column(8)}";
    }

    /// <summary>
    /// Takes a merchant's idempotency key for what a request made (an event, or a created endpoint
    /// or preference: <paramref name="madeId"/>) in the scope's transaction; false, nothing written,
    /// when the key is taken already (on PostgreSQL, once the transaction that took it commits).
    /// </summary>
    private static async Task<bool> TakeIdempotencyKeyAsync(WriteScope scope, string merchantId, (string Key, string RequestHash) idempotency,
        string madeId, DateTimeOffset at, CancellationToken cancellationToken) =>
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO idempotency_keys (merchant_id, key, request_hash, event_id, created_at) VALUES (@merchant_id, @key, @request_hash, @event_id, @created_at) ON CONFLICT DO NOTHING",
            new { merchant_id = merchantId, key = idempotency.Key, request_hash = idempotency.RequestHash, event_id = madeId, created_at = Time.Ms(at) },
            cancellationToken)) == 1;

    private static void AddEntity(RowSet rows, Entity entity, string document) =>
        rows.Add(entity.Kind.ApiName(), entity.Id, entity.MerchantId, entity.State, (long)entity.Version, entity.PreferenceId,
            document, Time.Ms(entity.CreatedAt), Time.Ms(entity.UpdatedAt));

    /// <summary>
    /// Writes a change's entity (and idempotency key) in the batch's transaction. A change that
    /// conflicts writes nothing: without a key its one statement simply changes no row; with a key,
    /// a savepoint takes the key back when the entity then conflicts.
    /// </summary>
    private static async Task<CommitResult> WriteEntityAsync(WriteScope scope, EntityChange change, string document, CancellationToken cancellationToken)
    {
        if (change.IdempotencyKey is not { } idem)
        {
            return await WriteEntityRowAsync(scope, change, document, cancellationToken);
        }
        await scope.Connection.ExecuteAsync(scope.Command("SAVEPOINT change", null, cancellationToken));
        var result = !await TakeIdempotencyKeyAsync(scope, change.Entity.MerchantId, idem, change.Event.Id, change.Event.OccurredAt, cancellationToken)
            ? CommitResult.IdempotencyKeyTaken
            : await WriteEntityRowAsync(scope, change, document, cancellationToken);
        if (result != CommitResult.Committed)
        {
            await scope.Connection.ExecuteAsync(scope.Command("ROLLBACK TO SAVEPOINT change", null, cancellationToken));
        }
        await scope.Connection.ExecuteAsync(scope.Command("RELEASE SAVEPOINT change", null, cancellationToken));
        return result;
    }

    // The update of one change's entity, its parameters named as the columns of NewUpdateRows.
    private static readonly string UpdateOneEntitySql = UpdateEntitySql(c => "@" + NewUpdateRows().ColumnTypes[c - 1].Name);

    private static async Task<CommitResult> WriteEntityRowAsync(WriteScope scope, EntityChange change, string document, CancellationToken cancellationToken)
    {
        var entity = change.Entity;
        var entityParameters = new
        {
            kind = entity.Kind.ApiName(),
            id = entity.Id,
            merchant_id = entity.MerchantId,
            state = entity.State,
            version = entity.Version,
            expected = change.ExpectedVersion,
            preference_id = entity.PreferenceId,
            document,
            created_at = Time.Ms(entity.CreatedAt),
            updated_at = Time.Ms(entity.UpdatedAt),
        };
        var written = change.ExpectedVersion == 0
            ? await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at) VALUES (@kind, @id, @merchant_id, @state, @version, @preference_id, @document, @created_at, @updated_at) ON CONFLICT DO NOTHING",
                entityParameters, cancellationToken))
            : await scope.Connection.ExecuteAsync(scope.Command(UpdateOneEntitySql, entityParameters, cancellationToken));
        return written == 1 ? CommitResult.Committed : CommitResult.VersionConflict;
    }

    private static RowSet NewEventRows() => new(
        ("id", DbType.String), ("merchant_id", DbType.String), ("entity_kind", DbType.String), ("entity_id", DbType.String),
        ("type", DbType.String), ("from_state", DbType.String), ("to_state", DbType.String), ("version", DbType.Int64),
        ("occurred_at", DbType.Int64), ("snapshot", DbType.String));

    private static void AddEvent(RowSet rows, string id, string merchantId, string entityKind, string entityId, string type,
        string? fromState, string toState, long version, DateTimeOffset occurredAt, string snapshot) =>
        rows.Add(id, merchantId, entityKind, entityId, type, fromState, toState, version, Time.Ms(occurredAt), snapshot);

    private static RowSet NewNotificationRows() => new(
        ("id", DbType.String), ("merchant_id", DbType.String), ("event_id", DbType.String), ("endpoint_id", DbType.String),
        ("entity_kind", DbType.String), ("entity_id", DbType.String), ("event_type", DbType.String), ("status", DbType.String),
        ("payload", DbType.String), ("next_attempt_at", DbType.Int64), ("created_at", DbType.Int64), ("entity_version", DbType.Int64),
        ("trace_parent", DbType.String), ("leased_until", DbType.Int64), ("lease_token", DbType.String));

    /// <summary>
    /// Adds an event's new notifications, pending and due at once (parked ones with no time to be
    /// tried until their endpoint is enabled); with a lease, those marked immediate are written held
    /// under it, due only when it ends: until then the queue's front is left to work anyone may take.
    /// A payload equal to the event's snapshot is written as an empty text (see <see cref="PayloadColumn"/>).
    /// </summary>
    private static void AddNotifications(RowSet rows, string eventId, string merchantId, string entityKind, string entityId, string eventType,
        long version, DateTimeOffset occurredAt, string snapshot, string? traceParent, IEnumerable<NewNotification> notifications, NotificationLease? lease,
        List<bool> leftToClaim)
    {
        var at = Time.Ms(occurredAt);
        foreach (var n in notifications)
        {
            var held = n.HeldBy(lease);
            leftToClaim.Add(n.LeftToClaim(lease));
            long? due = n.Parked ? null : held is null ? at : Time.Ms(held.Until);
            rows.Add(n.Id, merchantId, eventId, n.EndpointId, entityKind, entityId, eventType, "pending", KeptOnce(n.Payload, snapshot), due, at, version, traceParent,
                Time.Ms(held?.Until), held?.Token);
        }
    }

    /// <summary>
    /// Writes new notifications (the inserts of <see cref="NewNotificationRows"/>) and, when any of
    /// them is left for a claim (<paramref name="announce"/>), lets the database announce the work.
    /// </summary>
    protected async Task InsertNotificationsAsync(WriteScope scope, RowSet rows, bool announce, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await InsertRowsAsync(scope, "notifications", rows, cancellationToken);
        if (announce)
        {
            await OnWorkRecordedAsync(scope, cancellationToken);
        }
    }

    public async Task<(string EventId, string RequestHash)?> FindIdempotencyKeyAsync(string merchantId, string key, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<IdempotencyRow>(Read(
            "SELECT event_id, request_hash FROM idempotency_keys WHERE merchant_id = @merchantId AND key = @key",
            new { merchantId, key }, cancellationToken));
        return row is null ? null : (row.event_id, row.request_hash);
    }

    public async Task<EntityEvent?> GetEventAsync(string merchantId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<EventRow>(Read(
            $"SELECT {EventColumns} FROM events WHERE id = @id AND merchant_id = @merchantId", new { id, merchantId }, cancellationToken));
        return row?.ToModel();
    }

    /// <summary>The events of the entity <c>@entityId</c> of the merchant <c>@merchantId</c>, as a condition on events (the merchant's included).</summary>
    protected virtual string EventsOfEntity(string merchantId) => "merchant_id = @merchantId AND entity_id = @entityId";

    /// <summary>
    /// An entity's document, read from its row in <c>entities</c>. The document an entity was given
    /// with its latest change is that change's event's snapshot, character for character, and is not
    /// stored twice: the row keeps an empty text (never a document: each is a JSON object) and the
    /// snapshot of its event at the entity's version stands in.
    /// </summary>
    private string DocumentColumn => _documentColumn ??=
        $"COALESCE(NULLIF(entities.document, ''), (SELECT ev.snapshot FROM events ev WHERE {EventOfEntityVersion} AND ev.version = entities.version)) AS document";

    private string? _documentColumn;

    /// <summary>
    /// What a row keeps of a text its event's snapshot may stand in for (a payload, a document): an
    /// empty text when the two are the same character for character, else the text itself.
    /// </summary>
    private static string KeptOnce(string text, string snapshot) =>
        string.Equals(text, snapshot, StringComparison.Ordinal) ? "" : text;

    /// <summary>Matches the events (<c>ev</c>) of the entity row (<c>entities</c>) in the same statement.</summary>
    protected virtual string EventOfEntityVersion =>
        "ev.merchant_id = entities.merchant_id AND ev.entity_id = entities.id AND ev.entity_kind = entities.kind";

    public async Task<Page<EntityEvent>> ListEventsAsync(string merchantId, string? entityId, int limit, string? startingAfter,
        string? endingBefore = null, CancellationToken cancellationToken = default)
    {
        // An entity's events are its merchant's: the entity's condition holds the merchant's too.
        var where = string.IsNullOrEmpty(entityId)
            ? new SqlFilter("merchant_id = @merchantId", new { merchantId })
            : new SqlFilter(EventsOfEntity(merchantId), new { merchantId, entityId });
        return await ReadPageAsync<EventRow, EntityEvent>($"SELECT {EventColumns} FROM events", where, limit, startingAfter, endingBefore,
            r => r.ToModel(), cancellationToken, sized: ("events", "snapshot"));
    }
}

