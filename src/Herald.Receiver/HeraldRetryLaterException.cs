namespace Herald.Receiver;

/// <summary>
/// Thrown by a handler that cannot take a notification now (a database it needs is overloaded, a
/// downstream service asks for time): the kit gives the notification's <c>webhook-id</c> back and
/// answers <c>503</c> with <c>Retry-After</c>, which Herald honours within its bounds (under the
/// <c>exponential</c> policy no sooner than the next scheduled try and no later than twice its delay;
/// the <c>hourly</c> policy keeps its hour). Logged at Information, not as a failure.
/// </summary>
public sealed class HeraldRetryLaterException : Exception
{
    /// <summary>Asks Herald to send the notification again after <paramref name="retryAfter"/> (whole seconds, at least 1, at most a day).</summary>
    /// <param name="retryAfter">How long Herald should wait.</param>
    public HeraldRetryLaterException(TimeSpan retryAfter)
        : base($"the handler asked Herald to retry in {Seconds(retryAfter)} s")
    {
        RetryAfter = TimeSpan.FromSeconds(Seconds(retryAfter));
    }

    /// <summary>Asks Herald to send the notification again after a minute.</summary>
    public HeraldRetryLaterException()
        : this(TimeSpan.FromMinutes(1))
    {
    }

    /// <summary>As <see cref="HeraldRetryLaterException()"/>; <paramref name="message"/> is for the app's own log.</summary>
    /// <param name="message">Why.</param>
    public HeraldRetryLaterException(string message)
        : this(message, null)
    {
    }

    /// <summary>As <see cref="HeraldRetryLaterException()"/>, with the failure that made the handler ask.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">What failed.</param>
    public HeraldRetryLaterException(string message, Exception? innerException)
        : base(message, innerException)
    {
        RetryAfter = TimeSpan.FromMinutes(1);
    }

    /// <summary>How long Herald is asked to wait, in whole seconds (at least 1): the <c>Retry-After</c> sent.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>The longest wait asked for: a day (Herald waits at most twice a scheduled delay anyway).</summary>
    public const long MaxSeconds = 86_400;

    private static long Seconds(TimeSpan wait) => (long)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, MaxSeconds);
}
