using System.Collections.Concurrent;

namespace Herald.Delivery.Health;

// Whether this node has written an endpoint's failing days over (failing_since cleared) since it
// last saw it fail: the first success after a failure writes it, not every attempt beside it. A
// failure, scheduled or by hand, forgets it, so that the next success writes it again.
public sealed partial class EndpointGate
{
    private readonly ConcurrentDictionary<string, bool> _clearedFailing = new(StringComparer.Ordinal);

    /// <summary>An attempt of the endpoint succeeded: true when it is the first since this node saw it fail (its failing days are to be written over).</summary>
    public bool SucceededFirstSinceFailure(string endpointId) => _clearedFailing.TryAdd(endpointId, true);

    /// <summary>An attempt of the endpoint failed (or writing its success down did): its next success writes its failing days over.</summary>
    public void FailedSinceSuccess(string endpointId) => _clearedFailing.TryRemove(endpointId, out _);
}
