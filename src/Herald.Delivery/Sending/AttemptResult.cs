namespace Herald.Delivery.Sending;

/// <summary>What one HTTP try came to.</summary>
/// <param name="StartedAt">When it started (Herald's clock).</param>
/// <param name="DurationMs">How long it took, in real milliseconds.</param>
/// <param name="StatusCode">The receiver's status, when it answered.</param>
/// <param name="Succeeded">Whether the endpoint's success rule holds.</param>
/// <param name="Error">Why it failed, in words; <c>null</c> on success.</param>
/// <param name="ResponseExcerpt">The start of the response body.</param>
/// <param name="RetryAfter">The receiver's <c>Retry-After</c>, when it sent one.</param>
public sealed record AttemptResult(
    DateTimeOffset StartedAt,
    int DurationMs,
    int? StatusCode,
    bool Succeeded,
    string? Error,
    string? ResponseExcerpt,
    TimeSpan? RetryAfter = null);
