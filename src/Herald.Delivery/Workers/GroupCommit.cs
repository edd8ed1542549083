using System.Threading.Channels;

namespace Herald.Delivery.Workers;

/// <summary>
/// Group commit: each caller waits until its item is durably written, but the items that arrive
/// while one transaction commits share the next one, so the database sees one commit per batch
/// instead of one per item. If a batch fails, every caller in it gets the exception.
/// </summary>
/// <typeparam name="TItem">What is written.</typeparam>
/// <typeparam name="TResult">What each write answers.</typeparam>
public sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<TItem>, Func<IReadOnlyList<TItem>>, Task<IReadOnlyList<TResult>>> _write;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _queue;
    private readonly Task[] _loops;

    /// <param name="write">Writes a batch in one transaction and answers for each item, in order.</param>
    /// <param name="maxBatch">Most items in one transaction.</param>
    /// <param name="writers">How many batches may be written at once.</param>
    /// <param name="ownThreads">
    /// Whether each writer runs on a thread of its own, waiting for its batch's write to finish,
    /// instead of on the thread pool: for a database whose calls do their work on the caller's
    /// thread (SQLite), where the next batch would otherwise wait its turn behind the pool's queue
    /// of sends and receipts at every step.
    /// </param>
    public GroupCommit(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> write, int maxBatch, int writers = 1, bool ownThreads = false)
        : this((items, _) => write(items), maxBatch, writers, ownThreads)
    {
    }

    /// <param name="write">
    /// Writes a batch in one transaction and answers for each item, in order. Before it commits it
    /// may take what has arrived since (with the function it is given, which answers the items it
    /// took, none when nothing waits or the batch is full), and then answers for those too, after
    /// the others: whatever arrives while a transaction's statements run shares its commit.
    /// </param>
    /// <param name="maxBatch">Most items in one transaction.</param>
    /// <param name="writers">How many batches may be written at once.</param>
    /// <param name="ownThreads">See the other constructor.</param>
    public GroupCommit(Func<IReadOnlyList<TItem>, Func<IReadOnlyList<TItem>>, Task<IReadOnlyList<TResult>>> write, int maxBatch, int writers = 1, bool ownThreads = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        _write = write;
        _maxBatch = maxBatch;
        // A writer on its own thread is woken by the caller that hands it work, not by a work item
        // queued to the thread pool to wake it.
        _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = ownThreads });
        _loops = Enumerable.Range(0, writers).Select(_ => ownThreads ? StartThread() : Task.Run(WriteLoopAsync)).ToArray();
    }

    public Task<TResult> WriteAsync(TItem item)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(GroupCommit<TItem, TResult>));
        }
        return pending.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new Batch(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!Take(batch))
            {
                continue;
            }
            try
            {
                batch.Complete(await _write(batch.Items, () => TakeMore(batch)).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                batch.Fail(e);
            }
        }
    }

    private Task StartThread()
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                WriteLoop();
                stopped.SetResult();
            }
            catch (Exception e)
            {
                stopped.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "Herald group commit",
        };
        thread.UnsafeStart();
        return stopped.Task;
    }

    private void WriteLoop()
    {
        var batch = new Batch(_maxBatch);
        while (Wait(_queue.Reader.WaitToReadAsync()))
        {
            if (!Take(batch))
            {
                continue;
            }
            try
            {
                batch.Complete(_write(batch.Items, () => TakeMore(batch)).GetAwaiter().GetResult());
            }
            catch (Exception e)
            {
                batch.Fail(e);
            }
        }
    }

    private static bool Wait(ValueTask<bool> wait) => wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();

    /// <summary>Adds what is waiting to a batch being written, up to a batch's worth; answers what it added.</summary>
    private List<TItem> TakeMore(Batch batch)
    {
        var more = new List<TItem>();
        TakeInto(batch, more);
        return more;
    }

    /// <summary>Takes what is waiting, up to a batch's worth; false when another writer took it first.</summary>
    private bool Take(Batch batch)
    {
        batch.Pending.Clear();
        batch.Items.Clear();
        TakeInto(batch, batch.Items);
        return batch.Items.Count > 0;
    }

    /// <summary>Moves what is waiting into the batch, up to a batch's worth, its items also into <paramref name="items"/>.</summary>
    private void TakeInto(Batch batch, List<TItem> items)
    {
        while (batch.Pending.Count < _maxBatch && _queue.Reader.TryRead(out var pending))
        {
            batch.Pending.Add(pending);
            items.Add(pending.Item);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Done);

    private sealed class Batch(int capacity)
    {
        public List<Pending> Pending { get; } = new(capacity);

        public List<TItem> Items { get; } = new(capacity);

        public void Complete(IReadOnlyList<TResult> results)
        {
            if (results.Count != Pending.Count)
            {
                Fail(new InvalidOperationException($"the write answered {results.Count} of the batch's {Pending.Count} items"));
                return;
            }
            for (var i = 0; i < Pending.Count; i++)
            {
                Pending[i].Done.TrySetResult(results[i]);
            }
        }

        public void Fail(Exception e)
        {
            foreach (var pending in Pending)
            {
                pending.Done.TrySetException(e);
            }
        }
    }
}
