using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    public async Task<DateTimeOffset> MarkEndpointFailingAsync(string endpointId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        // The earliest failure wins, whichever node saw it.
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE endpoints SET failing_since = @at WHERE id = @endpointId AND failing_since IS NULL",
            new { endpointId, at = Time.Ms(at) }, cancellationToken));
        var since = await scope.Connection.ExecuteScalarAsync<long?>(scope.Command(
            "SELECT failing_since FROM endpoints WHERE id = @endpointId", new { endpointId }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return Time.At(since ?? Time.Ms(at));
    }

    public async Task MarkEndpointHealthyAsync(string endpointId, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE endpoints SET failing_since = NULL WHERE id = @endpointId AND failing_since IS NOT NULL",
            new { endpointId }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task RecordOperatorEventAsync(OperatorEvent evt, IReadOnlyList<NewNotification> notifications, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(notifications);
        await using var scope = await BeginWriteAsync(cancellationToken);
        // An operator event is about itself: it has no entity, so it is its own subject at version 1.
        await InsertEventAsync(scope, new
        {
            id = evt.Id,
            merchant_id = OperatorEventTypes.OperatorMerchantId,
            entity_kind = "operator",
            entity_id = evt.Id,
            type = evt.Type,
            from_state = (string?)null,
            to_state = evt.Type,
            version = 1,
            occurred_at = Time.Ms(evt.OccurredAt),
            snapshot = evt.Data.ToJsonString(),
        }, cancellationToken);
        if (notifications.Count > 0)
        {
            await InsertNotificationsAsync(scope, notifications.Select(n => (object)new
            {
                id = n.Id,
                merchant_id = OperatorEventTypes.OperatorMerchantId,
                event_id = evt.Id,
                endpoint_id = n.EndpointId,
                entity_kind = "operator",
                entity_id = evt.Id,
                event_type = evt.Type,
                payload = n.Payload,
                next_attempt_at = Time.Ms(evt.OccurredAt),
                created_at = Time.Ms(evt.OccurredAt),
                entity_version = 1,
                trace_parent = (string?)null,
            }), cancellationToken);
        }
        await scope.CommitAsync(cancellationToken);
    }
}
