using System.Diagnostics;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Herald's traces (<see cref="SourceName"/>): a span for each recorded change and one for each
/// delivery attempt, the attempt a child of the change that caused it, whichever node sends it.
/// </summary>
public static class DeliveryTelemetry
{
    public const string SourceName = "Herald";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The span of recording one change; its context is stored with the notifications.</summary>
    public static Activity? StartRecording(string kind, string entityId) =>
        Source.HasListeners()
            ? Source.StartActivity("herald.record", ActivityKind.Internal, default(ActivityContext),
                [new("herald.entity.kind", kind), new("herald.entity.id", entityId)])
            : null;

    /// <summary>The span of one attempt, continuing the trace of the change that caused it.</summary>
    public static Activity? StartDelivery(ClaimedNotification notification, int attempt)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (!Source.HasListeners())
        {
            return null;
        }
        ActivityContext.TryParse(notification.TraceParent, null, out var parent);
        var activity = Source.StartActivity("herald.deliver", ActivityKind.Client, parent);
        activity?.SetTag("herald.notification.id", notification.Id);
        activity?.SetTag("herald.event.id", notification.EventId);
        activity?.SetTag("herald.endpoint.id", notification.EndpointId);
        activity?.SetTag("herald.attempt", attempt);
        return activity;
    }
}
