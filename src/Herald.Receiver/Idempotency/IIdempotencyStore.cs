namespace Herald.Receiver.Idempotency;

/// <summary>What a claim on a <c>webhook-id</c> found.</summary>
public enum ClaimResult
{
    /// <summary>The id is now this request's: run the handler.</summary>
    Claimed,

    /// <summary>The id was handled before: answer 200 without running the handler.</summary>
    AlreadyHandled,

    /// <summary>Another request is handling the id right now: answer 409 so Herald tries again later.</summary>
    InProgress,
}

/// <summary>
/// Remembers which <c>webhook-id</c>s were handled, so that each notification's handler runs once
/// although Herald delivers at least once. The ids it is given are the <c>webhook-id</c>s as sent,
/// or <c>scope:webhook-id</c> for a receiver with an <see cref="HeraldWebhookOptions.IdempotencyScope"/>.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="id"/> until <paramref name="until"/> unless it is handled or held.</summary>
    Task<ClaimResult> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Marks a claimed id handled, for good.</summary>
    Task CompleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a claimed id back after the handler failed, so the next delivery runs it again; but only
    /// while the claim is still the one taken until <paramref name="claimedUntil"/>. A handler slower
    /// than its claim may find the id claimed again by a retry, whose claim it must leave alone.
    /// </summary>
    Task ReleaseAsync(string id, DateTimeOffset claimedUntil, CancellationToken cancellationToken);
}
