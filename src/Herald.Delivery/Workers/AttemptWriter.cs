using System.Threading.Channels;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// Group commit of attempt outcomes: every worker waits until its outcome is durably recorded, but
/// the outcomes that arrive while one transaction commits share the next one, so the database sees
/// one commit per batch instead of one per attempt.
/// </summary>
public sealed class AttemptWriter : IAsyncDisposable
{
    /// <summary>Most outcomes written in one transaction.</summary>
    public const int MaxBatch = 256;

    private readonly IHeraldStore _store;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public AttemptWriter(IHeraldStore store)
    {
        _store = store;
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Records a scheduled attempt; false when its lease was lost (nothing written).</summary>
    public Task<bool> RecordAsync(AttemptOutcome outcome)
    {
        var pending = new Pending(outcome, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(AttemptWriter));
        }
        return pending.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(MaxBatch);
        var outcomes = new List<AttemptOutcome>(MaxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            outcomes.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
                outcomes.Add(item.Outcome);
            }
            try
            {
                var recorded = await _store.RecordScheduledAttemptsAsync(outcomes, CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(recorded[i]);
                }
            }
            catch (Exception e)
            {
                // Nothing of the batch was written; each claim runs out and is tried again.
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private sealed record Pending(AttemptOutcome Outcome, TaskCompletionSource<bool> Done);
}
