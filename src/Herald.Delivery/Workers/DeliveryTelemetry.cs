using System.Diagnostics;
using Herald.Delivery.Sending;
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

    /// <summary>
    /// Leaves the web server's own activity of a request that came without a traceparent: it is
    /// recorded by nothing unless its source is listened to. A caller's traceparent, sampled or
    /// not, is followed. (Called from an async method, the change stays inside that method.)
    /// </summary>
    public static void LeaveUntracedRequest()
    {
        if (Activity.Current is { Recorded: false } unrecorded && unrecorded.ParentSpanId == default)
        {
            Activity.Current = null;
        }
    }

    /// <summary>The span of recording one change; its context is stored with the notifications.</summary>
    public static Activity? StartRecording(string kind, string entityId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        // A span parented to the web server's untraced activity would be dropped with it by a
        // parent-based sampler (OpenTelemetry's default), and the change and its deliveries would go
        // untraced: such a change starts a trace of its own.
        LeaveUntracedRequest();
        return Source.StartActivity("herald.record", ActivityKind.Internal, default(ActivityContext),
            [new("herald.entity.kind", kind), new("herald.entity.id", entityId)]);
    }

    /// <summary>
    /// The span of one attempt, scheduled or manual (<paramref name="trigger"/>, an
    /// <see cref="AttemptTriggers"/> value), continuing the trace of the change that caused it.
    /// </summary>
    public static Activity? StartDelivery(ClaimedNotification notification, int attempt, string trigger)
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
        activity?.SetTag("herald.attempt.trigger", trigger);
        return activity;
    }

    /// <summary>What the endpoint answered, on the attempt's span.</summary>
    public static void Answered(Activity? delivery, AttemptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        delivery?.SetTag("http.response.status_code", result.StatusCode);
    }
}
