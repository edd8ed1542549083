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

    /// <summary>
    /// <paramref name="rate"/> (0 to 1) rounded to <paramref name="decimals"/> places, but never to 1
    /// while an attempt failed nor to 0 while one succeeded: 20,000 of 20,001 is 0.9999 to four
    /// places, not 1, so whoever reads it (an alert on a rate below 1, a merchant) sees the failure.
    /// </summary>
    public static double Rounded(double rate, int decimals)
    {
        var step = Math.Pow(10, -decimals);
        var shown = Math.Round(rate, decimals);
        if (rate < 1)
        {
            shown = Math.Min(shown, 1 - step);
        }
        if (rate > 0)
        {
            shown = Math.Max(shown, step);
        }
        return Math.Round(shown, decimals);
    }
}
