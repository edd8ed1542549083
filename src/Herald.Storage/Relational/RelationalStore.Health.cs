using Dapper;
using Herald.Payloads;
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
        var events = NewEventRows();
        var snapshot = JsonText.Of(evt.Data);
        AddEvent(events, evt.Id, OperatorEventTypes.OperatorMerchantId, "operator", evt.Id, evt.Type, null, evt.Type, 1, evt.OccurredAt, snapshot);
        await InsertRowsAsync(scope, "events", events, cancellationToken);
        var rows = NewNotificationRows();
        var leftToClaim = new List<bool>();
        AddNotifications(rows, evt.Id, OperatorEventTypes.OperatorMerchantId, "operator", evt.Id, evt.Type, 1, evt.OccurredAt, snapshot, null, notifications, null, leftToClaim);
        await InsertNotificationsAsync(scope, rows, leftToClaim.Contains(true), cancellationToken);
        await scope.CommitAsync(cancellationToken);
    }
}
