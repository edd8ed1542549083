namespace Herald.Retry;

/// <summary>How an endpoint's failed notifications are tried again.</summary>
public enum RetryPolicy
{
    /// <summary>Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h, ±20 % jitter, for up to 3 days.</summary>
    Exponential,

    /// <summary>Every hour for 72 hours, as seed 003 requires.</summary>
    Hourly,
}

public static class RetryPolicies
{
    public static string ApiName(this RetryPolicy policy) => policy == RetryPolicy.Hourly ? "hourly" : "exponential";

    public static bool TryParse(string? value, out RetryPolicy policy)
    {
        switch (value)
        {
            case "exponential":
                policy = RetryPolicy.Exponential;
                return true;
            case "hourly":
                policy = RetryPolicy.Hourly;
                return true;
            default:
                policy = default;
                return false;
        }
    }

    public static RetryPolicy Parse(string value) =>
        TryParse(value, out var p) ? p : throw new FormatException($"unknown retry policy '{value}'");
}
