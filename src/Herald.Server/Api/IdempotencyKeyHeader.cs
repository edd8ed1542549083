namespace Herald.Server.Api;

/// <summary>
/// Route metadata: the route honours an <c>Idempotency-Key</c> header, so that a call retried with
/// it makes its change once. The OpenAPI document lists the header on such routes.
/// </summary>
public sealed class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";

    /// <summary>The longest key taken.</summary>
    public const int MaxLength = 255;
}
