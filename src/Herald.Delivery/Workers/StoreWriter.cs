using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Group commit for what the hot path writes: each caller waits until its change (entity, event,
/// notifications) or its attempt's outcome is durable, and whatever arrives while one transaction
/// commits shares the next one, changes and outcomes alike (on SQLite, one flush for both). Once a
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
    public async Task<CommitResult> CommitAsync(EntityChange change) => (await _commit.WriteAsync(new Item(change, null)).ConfigureAwait(false)).Change;

    /// <summary>Records a scheduled attempt; false when its lease was lost (nothing written).</summary>
    public async Task<bool> RecordAsync(AttemptOutcome outcome) => (await _commit.WriteAsync(new Item(null, outcome)).ConfigureAwait(false)).Recorded;

    private async Task<IReadOnlyList<Result>> WriteAsync(IReadOnlyList<Item> batch)
    {
        var changes = new List<EntityChange>();
        var outcomes = new List<AttemptOutcome>();
        foreach (var item in batch)
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
        var immediate = changes.Sum(c => c.Notifications.Count(n => n.Immediate));
        var lease = immediate > 0 && _handOff is { } handOff && handOff.HasRoomFor(immediate)
            ? new NotificationLease(Guid.NewGuid().ToString("N"), _time.GetUtcNow() + handOff.Lease)
            : null;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (changed, recorded) = await _store.WriteBatchAsync(changes, outcomes, lease, CancellationToken.None).ConfigureAwait(false);
        _metrics?.Written(changes.Count, outcomes.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        if (changes.Count > 0)
        {
            await DispatchAsync(changes, changed, lease).ConfigureAwait(false);
        }
        var results = new Result[batch.Count];
        int c = 0, o = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = batch[i].Change is not null ? new Result(changed[c++], false) : new Result(default, recorded[o++]);
        }
        return results;
    }

    /// <summary>Hands the committed notifications written under the lease to the workers, and wakes them for any others.</summary>
    private async Task DispatchAsync(List<EntityChange> changes, IReadOnlyList<CommitResult> changed, NotificationLease? lease)
    {
        List<LeasedNotification>? handed = null;
        var claimable = false;
        for (var i = 0; i < changes.Count; i++)
        {
            if (changed[i] != CommitResult.Committed)
            {
                continue;
            }
            var change = changes[i];
            foreach (var n in change.Notifications)
            {
                if (lease is not null && n.Immediate)
                {
                    (handed ??= []).Add(new LeasedNotification(n.Id, change.Event.MerchantId, change.Event.Id, n.EndpointId, n.Payload,
                        change.Event.OccurredAt, change.TraceParent, lease.Token, lease.Until));
                }
                else
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
