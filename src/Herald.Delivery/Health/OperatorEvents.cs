using System.Globalization;
using System.Text.Json.Nodes;
using Herald.Delivery.Workers;
using Herald.Ids;
using Herald.Payloads;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Health;

/// <summary>
/// Publishes Herald's own events (<c>endpoint.disabled</c>, <c>endpoint.failing</c>,
/// <c>endpoint.recovered</c>, <c>notification.dead</c>) to the operator's endpoints, as notifications the same workers deliver,
/// sign and retry. The body is <c>{id, type, created_at, data}</c>.
/// </summary>
public sealed class OperatorEvents(IHeraldStore store, DeliverySignal signal, TimeProvider time)
{
    /// <summary>
    /// Disables an endpoint for <paramref name="reason"/> (what is pending for it waits) and tells the
    /// operator; false, and nothing told, when it was disabled already.
    /// </summary>
    public async Task<bool> DisableEndpointAsync(string merchantId, string endpointId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await store.DisableEndpointAsync(endpointId, reason, now, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        await PublishAsync(OperatorEventTypes.EndpointDisabled, merchantId,
            new JsonObject { ["merchant_id"] = merchantId, ["endpoint_id"] = endpointId, ["reason"] = reason }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The endpoint's circuit opened: it failed <paramref name="failures"/> times in a row, the last as given.</summary>
    public Task EndpointFailingAsync(string merchantId, string endpointId, int failures, int? lastStatusCode, string? lastError, CancellationToken cancellationToken) =>
        PublishAsync(OperatorEventTypes.EndpointFailing, merchantId, new JsonObject
        {
            ["merchant_id"] = merchantId,
            ["endpoint_id"] = endpointId,
            ["consecutive_failures"] = failures,
            ["last_status_code"] = lastStatusCode,
            ["last_error"] = lastError,
        }, cancellationToken);

    public Task EndpointRecoveredAsync(string merchantId, string endpointId, CancellationToken cancellationToken) =>
        PublishAsync(OperatorEventTypes.EndpointRecovered, merchantId,
            new JsonObject { ["merchant_id"] = merchantId, ["endpoint_id"] = endpointId }, cancellationToken);

    public Task NotificationDeadAsync(ClaimedNotification notification, int attempts, string? lastError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        return PublishAsync(OperatorEventTypes.NotificationDead, notification.MerchantId, new JsonObject
        {
            ["merchant_id"] = notification.MerchantId,
            ["endpoint_id"] = notification.EndpointId,
            ["notification_id"] = notification.Id,
            ["event_id"] = notification.EventId,
            ["attempts"] = attempts,
            ["last_error"] = lastError,
        }, cancellationToken);
    }

    /// <summary>The body every operator webhook receives: <c>{id, type, created_at, data}</c>.</summary>
    internal static string Body(string id, string type, DateTimeOffset at, JsonObject data) => JsonText.Of(new JsonObject
    {
        ["id"] = id,
        ["type"] = type,
        ["created_at"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["data"] = data,
    });

    private async Task PublishAsync(string type, string merchantId, JsonObject data, CancellationToken cancellationToken)
    {
        if (merchantId == OperatorEventTypes.OperatorMerchantId)
        {
            // The operator's own endpoints failing must not feed events back to themselves.
            return;
        }
        var now = time.GetUtcNow();
        var evt = new OperatorEvent(HeraldId.New(HeraldId.Event, time), type, now, data);
        var payload = Body(evt.Id, type, now, data.DeepClone().AsObject());
        var endpoints = await store.ListEndpointsAsync(OperatorEventTypes.OperatorMerchantId, cancellationToken).ConfigureAwait(false);
        var notifications = endpoints.Select(e => new NewNotification(HeraldId.New(HeraldId.Notification, time), e.Id, payload, Parked: !e.Enabled)).ToList();
        await store.RecordOperatorEventAsync(evt, notifications, cancellationToken).ConfigureAwait(false);
        if (notifications.Count > 0)
        {
            signal.Notify();
        }
    }
}
