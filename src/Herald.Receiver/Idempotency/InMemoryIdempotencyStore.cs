namespace Herald.Receiver.Idempotency;

/// <summary>
/// Handled ids kept in memory, at most <see cref="Capacity"/> (the oldest are forgotten first, never
/// one still being handled).
/// Good for one process; it forgets on restart.
/// </summary>
public sealed class InMemoryIdempotencyStore : IIdempotencyStore
{
    private readonly Dictionary<string, (bool Done, DateTimeOffset Until)> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    /// <summary>Creates a store remembering up to <paramref name="capacity"/> ids.</summary>
    public InMemoryIdempotencyStore(int capacity = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>How many ids are remembered at most.</summary>
    public int Capacity { get; }

    /// <inheritdoc />
    public Task<ClaimResult> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_ids.TryGetValue(id, out var entry))
            {
                if (entry.Done)
                {
                    return Task.FromResult(ClaimResult.AlreadyHandled);
                }
                if (entry.Until > now)
                {
                    return Task.FromResult(ClaimResult.InProgress);
                }
                _ids[id] = (false, until);
                return Task.FromResult(ClaimResult.Claimed);
            }
            _ids[id] = (false, until);
            _order.Enqueue(id);
            Trim(now);
            return Task.FromResult(ClaimResult.Claimed);
        }
    }

    /// <summary>
    /// Forgets the oldest ids past <see cref="Capacity"/>, but never one whose handler is running
    /// (claimed, unfinished, its claim not run out): forgotten, a retry would run it again beside it.
    /// </summary>
    private void Trim(DateTimeOffset now)
    {
        for (var kept = 0; _order.Count > Capacity && kept < _order.Count;)
        {
            var oldest = _order.Dequeue();
            if (_ids.TryGetValue(oldest, out var entry) && !entry.Done && entry.Until > now)
            {
                _order.Enqueue(oldest);
                kept++;
                continue;
            }
            _ids.Remove(oldest);
        }
    }

    /// <inheritdoc />
    public Task CompleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_ids.ContainsKey(id))
            {
                _order.Enqueue(id);
            }
            _ids[id] = (true, DateTimeOffset.MaxValue);
            Trim(now);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ReleaseAsync(string id, DateTimeOffset claimedUntil, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_ids.TryGetValue(id, out var entry) && !entry.Done && entry.Until == claimedUntil)
            {
                _ids[id] = (false, DateTimeOffset.MinValue);
            }
        }
        return Task.CompletedTask;
    }
}
