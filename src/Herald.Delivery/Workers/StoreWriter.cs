using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Group commit for what the hot path writes: each caller waits until its change (entity, event,
/// notifications) or its attempt's outcome is durable, and whatever arrives while one transaction
/// commits shares the next one, changes and outcomes alike (on SQLite, one flush for both; what
/// arrives while a transaction's statements run joins it before it commits). Once a
/// batch has committed, its new notifications are handed to this node's workers when they have
/// room (written already leased to them), and the workers are woken for the rest.
/// </summary>
public sealed class StoreWriter : IAsyncDisposable
{
    /// <summary>Most changes and outcomes written in one transaction.</summary>
    public const int MaxBatch = 256;

    private readonly IHeraldStore _store;
    private readonly DeliveryHandOff? _handOff;
    private readonly DeliverySignal? _signal;
    private readonly TimeProvider _time;
    private readonly DeliveryMetrics? _metrics;
    private readonly GroupCommit<Item, Result> _commit;

    public StoreWriter(IHeraldStore store, DeliveryHandOff? handOff = null, DeliverySignal? signal = null, TimeProvider? time = null, DeliveryMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _handOff = handOff;
        _signal = signal;
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _commit = new GroupCommit<Item, Result>(WriteAsync, MaxBatch, store.WriteConcurrency, ownThreads: store.WritesOnCallingThread);
    }

    /// <summary>Commits a recorded change; anything but <see cref="CommitResult.Committed"/> wrote nothing.</summary>
    public async Task<CommitResult> CommitAsync(EntityChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        // Its JSON is rendered here, on the caller's thread, not by the writer every change waits for.
        _ = change.SnapshotJson();
        return (await _commit.WriteAsync(new Item(change, null)).ConfigureAwait(false)).Change;
    }

    /// <summary>Records a scheduled attempt; false when its lease was lost (nothing written).</summary>
    public async Task<bool> RecordAsync(AttemptOutcome outcome) => (await _commit.WriteAsync(new Item(null, outcome)).ConfigureAwait(false)).Recorded;

    private async Task<IReadOnlyList<Result>> WriteAsync(IReadOnlyList<Item> batch, Func<IReadOnlyList<Item>> takeMore)
    {
        // Every item of the transaction, in the order it is answered (what the write takes on joins
        // the end), and each change's lease.
        var items = new List<Item>(batch);
        var written = new List<(EntityChange Change, NotificationLease? Lease)>();
        var leased = 0;
        var first = Round(batch);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (changed, recorded) = await _store.WriteBatchAsync(first.Changes, first.Outcomes, first.Lease, CancellationToken.None, More).ConfigureAwait(false);
        _metrics?.Written(written.Count, items.Count - written.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        if (written.Count > 0)
        {
            await DispatchAsync(written, changed).ConfigureAwait(false);
        }
        var results = new Result[items.Count];
        int c = 0, o = 0;
        for (var i = 0; i < items.Count; i++)
        {
            results[i] = items[i].Change is not null ? new Result(changed[c++], false) : new Result(default, recorded[o++]);
        }
        return results;

        // What arrived while the transaction's statements ran goes into it too.
        WriteRound? More()
        {
            var more = takeMore();
            if (more.Count == 0)
            {
                return null;
            }
            items.AddRange(more);
            return Round(more);
        }

        // A round's changes and outcomes; its immediate notifications are written leased to this
        // node's workers while they have room for them (with those of the rounds before).
        WriteRound Round(IReadOnlyList<Item> round)
        {
            var changes = new List<EntityChange>();
            var outcomes = new List<AttemptOutcome>();
            foreach (var item in round)
            {
                if (item.Change is { } change)
                {
                    changes.Add(change);
                }
                else
                {
                    outcomes.Add(item.Outcome!);
                }
            }
            var immediate = changes.Sum(change => change.Notifications.Count(n => n.Immediate));
            var lease = immediate > 0 && _handOff is { } handOff && handOff.HasRoomFor(leased + immediate)
                ? new NotificationLease(Guid.NewGuid().ToString("N"), _time.GetUtcNow() + handOff.Lease)
                : null;
            if (lease is not null)
            {
                leased += immediate;
            }
            written.AddRange(changes.Select(change => (change, lease)));
            return new WriteRound(changes, outcomes, lease);
        }
    }

    /// <summary>Hands the committed notifications written under a lease to the workers, and wakes them for any others.</summary>
    private async Task DispatchAsync(List<(EntityChange Change, NotificationLease? Lease)> changes, IReadOnlyList<CommitResult> changed)
    {
        List<LeasedNotification>? handed = null;
        var claimable = false;
        for (var i = 0; i < changes.Count; i++)
        {
            if (changed[i] != CommitResult.Committed)
            {
                continue;
            }
            var (change, lease) = changes[i];
            foreach (var n in change.Notifications)
            {
                if (n.HeldBy(lease) is { } held)
                {
                    (handed ??= []).Add(new LeasedNotification(n.Id, change.Event.MerchantId, change.Event.Id, n.EndpointId, n.Payload,
                        change.Event.OccurredAt, change.TraceParent, held.Token, held.Until));
                }
                else if (n.LeftToClaim(lease))
                {
                    claimable = true;
                }
            }
        }
        if (handed is not null && !_handOff!.Add(handed))
        {
            // The workers stopped while the batch was written: the leases go back, and the work to the queue.
            try
            {
                await _store.ReleaseAsync(handed.Select(n => (n.Id, n.LeaseToken)).ToList(), _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The change is committed all the same; its notifications fall due when the lease ends.
            }
        }
        if (claimable)
        {
            _signal?.Notify();
        }
    }

    public ValueTask DisposeAsync() => _commit.DisposeAsync();

    private readonly record struct Item(EntityChange? Change, AttemptOutcome? Outcome);

    private readonly record struct Result(CommitResult Change, bool Recorded);
}
