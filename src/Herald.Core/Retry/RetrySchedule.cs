namespace Herald.Retry;

/// <summary>
/// When a notification is tried next after a failed scheduled attempt, or that it is dead:
/// <c>hourly</c> gives up after 72 retries, <c>exponential</c> once the next try would fall more
/// than three days after the notification was recorded, and not before the ladder's first six tries
/// (5 s to 5 h apart, about seven and a half hours).
/// </summary>
public static class RetrySchedule
{
    /// <summary>How long a policy keeps trying.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(3);

    /// <summary>Relative spread of exponential delays: a delay d becomes a value in [0.8 d, 1.2 d].</summary>
    public const double Jitter = 0.2;

    /// <summary>Hourly retries after the first attempt: one an hour for 72 hours.</summary>
    public const int HourlyRetries = 72;

    private static readonly TimeSpan[] ExponentialDelays =
    [
        TimeSpan.FromSeconds(5),
        TimeSpan.FromMinutes(5),
        TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2),
        TimeSpan.FromHours(5),
        TimeSpan.FromHours(10),
    ];

    /// <summary>
    /// The delay after the <paramref name="failures"/>-th failed scheduled attempt (1 for the first),
    /// before jitter.
    /// </summary>
    public static TimeSpan BaseDelay(RetryPolicy policy, int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        return policy switch
        {
            RetryPolicy.Hourly => TimeSpan.FromHours(1),
            _ => ExponentialDelays[Math.Min(failures, ExponentialDelays.Length) - 1],
        };
    }

    /// <summary>
    /// The time of the next scheduled attempt, or <c>null</c> when the notification is dead.
    /// </summary>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="createdAt">When the notification was recorded; the window counts from here.</param>
    /// <param name="failures">Failed scheduled attempts so far, this one included.</param>
    /// <param name="now">When this attempt failed.</param>
    /// <param name="jitterSample">A uniform sample in [0, 1) that places the delay inside the jitter band.</param>
    public static DateTimeOffset? Next(RetryPolicy policy, DateTimeOffset createdAt, int failures, DateTimeOffset now, double jitterSample)
    {
        var delay = BaseDelay(policy, failures);
        if (policy == RetryPolicy.Exponential)
        {
            var factor = 1 - Jitter + (2 * Jitter * Math.Clamp(jitterSample, 0, 1));
            delay = TimeSpan.FromTicks((long)(delay.Ticks * factor));
        }
        var next = now + delay;
        if (policy == RetryPolicy.Hourly)
        {
            // Counted, not timed: an attempt that ran a little late must not cost the last hourly try.
            return failures > HourlyRetries ? null : next;
        }
        // The ladder's first tries are made whatever the notification's age: one that waited out the
        // window parked (its endpoint paused or disabled for longer) is not dead at its first failure.
        // (Made due again after a pause or a disable, a notification's failures count from zero.)
        return failures < ExponentialDelays.Length || next - createdAt <= Window ? next : null;
    }

    /// <summary>
    /// The next try once the receiver asked, with <c>Retry-After</c>, to be tried again in
    /// <paramref name="asked"/>: Herald waits at least the scheduled delay and at most twice it, so a
    /// receiver may slow retries down but never bring one forward nor stop them. An exponential
    /// policy still makes its tries inside its window: a wait that would pass its end is cut to it
    /// (never below the scheduled try). An hourly policy keeps its hour: seed 003 promises a resend
    /// every hour, so a receiver's <c>Retry-After</c> changes nothing there.
    /// </summary>
    /// <param name="policy">The endpoint's policy.</param>
    /// <param name="createdAt">When the notification was recorded; the window counts from here.</param>
    /// <param name="now">When this attempt failed.</param>
    /// <param name="scheduled">The next try as <see cref="Next"/> gave it.</param>
    /// <param name="asked">The wait the receiver asked for.</param>
    public static DateTimeOffset HonouringRetryAfter(RetryPolicy policy, DateTimeOffset createdAt, DateTimeOffset now, DateTimeOffset scheduled, TimeSpan asked)
    {
        if (policy == RetryPolicy.Hourly)
        {
            // Seed 003's endpoints are promised a resend every hour: the hour is kept, whatever is asked.
            return scheduled;
        }
        var delay = scheduled - now;
        var next = now + TimeSpan.FromTicks(Math.Clamp(asked.Ticks, delay.Ticks, 2 * delay.Ticks));
        if (policy == RetryPolicy.Exponential && next - createdAt > Window)
        {
            var end = createdAt + Window;
            next = scheduled > end ? scheduled : end;
        }
        return next;
    }
}
