using Herald.Delivery.Workers;
using Herald.Storage.Abstractions;

namespace Herald.Delivery.Recording;

/// <summary>
/// Commits recorded changes with group commit: each caller waits until its change (entity, event,
/// notifications) is durable, and the changes recorded at the same moment share one transaction,
/// each in its own savepoint.
/// </summary>
public sealed class ChangeWriter(IHeraldStore store) : IAsyncDisposable
{
    /// <summary>Most changes written in one transaction.</summary>
    public const int MaxBatch = 128;

    private readonly GroupCommit<EntityChange, CommitResult> _commit = new(batch => store.CommitChangesAsync(batch, CancellationToken.None), MaxBatch, store.WriteConcurrency);

    public Task<CommitResult> CommitAsync(EntityChange change) => _commit.WriteAsync(change);

    public ValueTask DisposeAsync() => _commit.DisposeAsync();
}
