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
            "SELECT kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at FROM entities WHERE kind = @kind AND id = @id AND merchant_id = @merchantId",
            new { kind = kind.ApiName(), id, merchantId }, cancellationToken));
        return row?.ToModel();
    }

    public async Task<CommitResult> CommitChangeAsync(EntityChange change, CancellationToken cancellationToken = default) =>
        (await CommitChangesAsync([change], cancellationToken))[0];

    public async Task<IReadOnlyList<CommitResult>> CommitChangesAsync(IReadOnlyList<EntityChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var results = new CommitResult[changes.Count];
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (changes.Count == 1)
        {
            // Alone, a change that loses a race is rolled back whole; no savepoint needed.
            results[0] = await WriteChangeAsync(scope, changes[0], cancellationToken);
            if (results[0] == CommitResult.Committed)
            {
                await scope.CommitAsync(cancellationToken);
            }
            return results;
        }
        for (var i = 0; i < changes.Count; i++)
        {
            // Each change in its own savepoint: one that loses a race leaves nothing behind, the
            // others of the batch commit together.
            await scope.Connection.ExecuteAsync(scope.Command("SAVEPOINT change", null, cancellationToken));
            results[i] = await WriteChangeAsync(scope, changes[i], cancellationToken);
            if (results[i] != CommitResult.Committed)
            {
                await scope.Connection.ExecuteAsync(scope.Command("ROLLBACK TO SAVEPOINT change", null, cancellationToken));
            }
            await scope.Connection.ExecuteAsync(scope.Command("RELEASE SAVEPOINT change", null, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return results;
    }

    private async Task<CommitResult> WriteChangeAsync(WriteScope scope, EntityChange change, CancellationToken cancellationToken)
    {
        var entity = change.Entity;
        var evt = change.Event;

        if (change.IdempotencyKey is { } idem)
        {
            var taken = await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO idempotency_keys (merchant_id, key, request_hash, event_id, created_at) VALUES (@merchant_id, @key, @request_hash, @event_id, @created_at) ON CONFLICT DO NOTHING",
                new { merchant_id = entity.MerchantId, key = idem.Key, request_hash = idem.RequestHash, event_id = evt.Id, created_at = Time.Ms(evt.OccurredAt) },
                cancellationToken));
            if (taken == 0)
            {
                return CommitResult.IdempotencyKeyTaken;
            }
        }

        var entityParameters = new
        {
            kind = entity.Kind.ApiName(),
            id = entity.Id,
            merchant_id = entity.MerchantId,
            state = entity.State,
            version = entity.Version,
            expected = change.ExpectedVersion,
            preference_id = entity.PreferenceId,
            document = entity.Document.ToJsonString(),
            created_at = Time.Ms(entity.CreatedAt),
            updated_at = Time.Ms(entity.UpdatedAt),
        };
        if (change.ExpectedVersion == 0)
        {
            var inserted = await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO entities (kind, id, merchant_id, state, version, preference_id, document, created_at, updated_at) VALUES (@kind, @id, @merchant_id, @state, @version, @preference_id, @document, @created_at, @updated_at) ON CONFLICT DO NOTHING",
                entityParameters, cancellationToken));
            if (inserted == 0)
            {
                return CommitResult.VersionConflict;
            }
        }
        else
        {
            var updated = await scope.Connection.ExecuteAsync(scope.Command(
                "UPDATE entities SET state = @state, version = @version, document = @document, updated_at = @updated_at WHERE kind = @kind AND id = @id AND merchant_id = @merchant_id AND version = @expected",
                entityParameters, cancellationToken));
            if (updated == 0)
            {
                return CommitResult.VersionConflict;
            }
        }

        await InsertEventAsync(scope, new
            {
                id = evt.Id,
                merchant_id = evt.MerchantId,
                entity_kind = evt.EntityKind.ApiName(),
                entity_id = evt.EntityId,
                type = evt.Type,
                from_state = evt.FromState,
                to_state = evt.ToState,
                version = evt.Version,
                occurred_at = Time.Ms(evt.OccurredAt),
                snapshot = evt.Snapshot.ToJsonString(),
            }, cancellationToken);

        if (change.Notifications.Count > 0)
        {
            var rows = change.Notifications.Select(n => (object)new
            {
                id = n.Id,
                merchant_id = evt.MerchantId,
                event_id = evt.Id,
                endpoint_id = n.EndpointId,
                entity_kind = evt.EntityKind.ApiName(),
                entity_id = evt.EntityId,
                event_type = evt.Type,
                payload = n.Payload,
                next_attempt_at = Time.Ms(evt.OccurredAt),
                created_at = Time.Ms(evt.OccurredAt),
                entity_version = evt.Version,
                trace_parent = change.TraceParent,
            });
            await InsertNotificationsAsync(scope, rows, cancellationToken);
        }
        return CommitResult.Committed;
    }

    private static Task InsertEventAsync(WriteScope scope, object row, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command(
            $"INSERT INTO events ({EventColumns}) VALUES (@id, @merchant_id, @entity_kind, @entity_id, @type, @from_state, @to_state, @version, @occurred_at, @snapshot)",
            row, cancellationToken));

    /// <summary>Writes new pending notifications (due at once) and lets the database announce the work.</summary>
    private async Task InsertNotificationsAsync(WriteScope scope, IEnumerable<object> rows, CancellationToken cancellationToken)
    {
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO notifications (id, merchant_id, event_id, endpoint_id, entity_kind, entity_id, event_type, status, payload, next_attempt_at, created_at, entity_version, trace_parent) VALUES (@id, @merchant_id, @event_id, @endpoint_id, @entity_kind, @entity_id, @event_type, 'pending', @payload, @next_attempt_at, @created_at, @entity_version, @trace_parent)",
            rows, cancellationToken));
        await OnWorkRecordedAsync(scope, cancellationToken);
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

    public async Task<Page<EntityEvent>> ListEventsAsync(string merchantId, string? entityId, int limit, string? startingAfter, CancellationToken cancellationToken = default)
    {
        var where = new SqlFilter("merchant_id = @merchantId", new { merchantId, take = limit + 1 });
        where.AndIf(entityId, "entity_id = @entityId", "entityId");
        where.AndIf(startingAfter, "id < @startingAfter", "startingAfter");
        await using var connection = await OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<EventRow>(Read(
            $"SELECT {EventColumns} FROM events WHERE {where} ORDER BY id DESC LIMIT @take", where.Parameters, cancellationToken))).AsList();
        return new Page<EntityEvent>(rows.Take(limit).Select(r => r.ToModel()).ToList(), rows.Count > limit);
    }
}
