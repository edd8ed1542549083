using Herald.Receiver.Idempotency;

namespace Herald.Receiver.Tests.Infrastructure;

/// <summary>
/// An in-memory store whose claims, notes of a handled id or giving back of a claim fail, as a busy,
/// failing-over or unreachable database would.
/// </summary>
public sealed class FaultyStore(bool claims = false, bool completes = false, bool releases = false) : IIdempotencyStore
{
    private readonly InMemoryIdempotencyStore _inner = new();
    private int _completeCalls;

    /// <summary>How many times the kit asked to note an id handled.</summary>
    public int CompleteCalls => Volatile.Read(ref _completeCalls);

    public Task<ClaimResult> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        claims ? throw new TimeoutException("store unreachable") : _inner.TryClaimAsync(id, now, until, cancellationToken);

    public Task CompleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _completeCalls);
        return completes ? throw new TimeoutException("database busy") : _inner.CompleteAsync(id, now, cancellationToken);
    }

    public Task ReleaseAsync(string id, DateTimeOffset claimedUntil, CancellationToken cancellationToken) =>
        releases ? throw new TimeoutException("store unreachable") : _inner.ReleaseAsync(id, claimedUntil, cancellationToken);
}
