namespace Herald.Storage.Model;

/// <summary>How delivery went for one merchant over a window: attempts per hour, and per endpoint.</summary>
/// <param name="Since">The start of the window (inclusive).</param>
/// <param name="Until">The end of the window (exclusive).</param>
/// <param name="Hours">One entry per hour of the window, oldest first, empty hours included.</param>
/// <param name="Endpoints">One entry per endpoint that had attempts in the window.</param>
public sealed record DeliveryStats(DateTimeOffset Since, DateTimeOffset Until, IReadOnlyList<HourlyAttempts> Hours, IReadOnlyList<EndpointStats> Endpoints);

/// <summary>The attempts that started within one hour, by outcome.</summary>
public sealed record HourlyAttempts(DateTimeOffset Hour, int Succeeded, int Failed);

/// <summary>
/// One endpoint's attempts in the window, its success rate and its latency percentiles
/// (nearest rank over the attempts' durations).
/// </summary>
public sealed record EndpointStats(string EndpointId, int Attempts, int Succeeded, int P50Ms, int P95Ms)
{
    public double SuccessRate => Attempts == 0 ? 0 : (double)Succeeded / Attempts;
}
