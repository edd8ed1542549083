using System.Text.Json.Nodes;

namespace Herald.Storage.Model;

/// <summary>The operator's own event types.</summary>
public static class OperatorEventTypes
{
    public const string EndpointDisabled = "endpoint.disabled";
    public const string EndpointFailing = "endpoint.failing";
    public const string EndpointRecovered = "endpoint.recovered";
    public const string NotificationDead = "notification.dead";

    /// <summary>What an operator webhook's test sends (never recorded): its body has the events' own shape.</summary>
    public const string EndpointTest = "endpoint.test";

    /// <summary>The reserved merchant that owns the operator's endpoints.</summary>
    public const string OperatorMerchantId = "mer_operator";
}

/// <summary>One of Herald's own events, for the operator: what happened, and to what.</summary>
/// <param name="Id">Its event id (<c>evt_…</c>), the <c>webhook-id</c> of its deliveries.</param>
/// <param name="Type">One of <see cref="OperatorEventTypes"/>.</param>
/// <param name="OccurredAt">When it happened.</param>
/// <param name="Data">What it is about: merchant, endpoint, notification, reason.</param>
public sealed record OperatorEvent(string Id, string Type, DateTimeOffset OccurredAt, JsonObject Data);
