using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Records scheduled attempts with group commit: each worker waits for its own outcome to be
/// durable, and the outcomes that arrive together share one transaction.
/// </summary>
public sealed class AttemptWriter(IHeraldStore store) : IAsyncDisposable
{
    /// <summary>Most outcomes written in one transaction.</summary>
    public const int MaxBatch = 256;

    private readonly GroupCommit<AttemptOutcome, bool> _commit = new(batch => store.RecordScheduledAttemptsAsync(batch, CancellationToken.None), MaxBatch, store.WriteConcurrency);

    /// <summary>Records a scheduled attempt; false when its lease was lost (nothing written).</summary>
    public Task<bool> RecordAsync(AttemptOutcome outcome) => _commit.WriteAsync(outcome);

    public ValueTask DisposeAsync() => _commit.DisposeAsync();
}
