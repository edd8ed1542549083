using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Group commit for what the hot path writes: each caller waits until its change (entity, event,
/// notifications) or its attempt's outcome is durable, and whatever arrives while one transaction
/// commits shares the next one, changes and outcomes alike (on SQLite, one flush for both).
/// </summary>
public sealed class StoreWriter(IHeraldStore store) : IAsyncDisposable
{
    /// <summary>Most changes and outcomes written in one transaction.</summary>
    public const int MaxBatch = 256;

    private readonly GroupCommit<Item, Result> _commit = new(batch => WriteAsync(store, batch), MaxBatch, store.WriteConcurrency);

    /// <summary>Commits a recorded change; anything but <see cref="CommitResult.Committed"/> wrote nothing.</summary>
    public async Task<CommitResult> CommitAsync(EntityChange change) => (await _commit.WriteAsync(new Item(change, null)).ConfigureAwait(false)).Change;

    /// <summary>Records a scheduled attempt; false when its lease was lost (nothing written).</summary>
    public async Task<bool> RecordAsync(AttemptOutcome outcome) => (await _commit.WriteAsync(new Item(null, outcome)).ConfigureAwait(false)).Recorded;

    private static async Task<IReadOnlyList<Result>> WriteAsync(IHeraldStore store, IReadOnlyList<Item> batch)
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
        var (changed, recorded) = await store.WriteBatchAsync(changes, outcomes, CancellationToken.None).ConfigureAwait(false);
        var results = new Result[batch.Count];
        int c = 0, o = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            results[i] = batch[i].Change is not null ? new Result(changed[c++], false) : new Result(default, recorded[o++]);
        }
        return results;
    }

    public ValueTask DisposeAsync() => _commit.DisposeAsync();

    private readonly record struct Item(EntityChange? Change, AttemptOutcome? Outcome);

    private readonly record struct Result(CommitResult Change, bool Recorded);
}
