using Herald.Delivery.Workers;

namespace Herald.Server.Tests.Delivery;

/// <summary>The hot path's group commit, on the thread pool (PostgreSQL) and on a thread of its own (SQLite).</summary>
public sealed class GroupCommitTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ItemsArrivingDuringAWrite_ShareTheNextOne_AndEachCallerGetsItsOwnAnswer(bool ownThreads)
    {
        var batches = new List<int[]>();
        var threads = new List<bool>();
        using var firstStarted = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        await using var commit = new GroupCommit<int, string>(items =>
        {
            lock (batches)
            {
                batches.Add([.. items]);
                threads.Add(Thread.CurrentThread.IsThreadPoolThread);
            }
            if (batches.Count == 1)
            {
                firstStarted.Set();
                // A synchronous write, as SQLite's are: the writer's thread is held meanwhile.
                releaseFirst.Wait(TimeSpan.FromSeconds(10));
            }
            return Task.FromResult<IReadOnlyList<string>>([.. items.Select(i => $"wrote {i}")]);
        }, maxBatch: 100, ownThreads: ownThreads);

        var first = commit.WriteAsync(0);
        Assert.True(firstStarted.Wait(TimeSpan.FromSeconds(10)));
        var rest = Enumerable.Range(1, 20).Select(commit.WriteAsync).ToList();
        releaseFirst.Set();

        Assert.Equal("wrote 0", await first);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"wrote {i}"), await Task.WhenAll(rest));
        Assert.Equal(2, batches.Count);
        Assert.Equal(Enumerable.Range(1, 20), batches[1]);
        Assert.All(threads, onPool => Assert.Equal(!ownThreads, onPool));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ItemsArrivingWhileAWriteRuns_JoinItWhenTaken_UpToTheBatchLimit_AndTheRestFollow(bool ownThreads)
    {
        var writes = new List<int[]>();
        Task<int>[]? arrived = null;
        GroupCommit<int, int>? commit = null;
        commit = new GroupCommit<int, int>((items, takeMore) =>
        {
            var all = items.ToList();
            if (writes.Count == 0)
            {
                // Nine more arrive while the first batch's statements run; it takes what fits (a batch of five).
                arrived = [.. Enumerable.Range(1, 9).Select(commit!.WriteAsync)];
                for (var more = takeMore(); more.Count > 0; more = takeMore())
                {
                    all.AddRange(more);
                }
            }
            lock (writes)
            {
                writes.Add([.. all]);
            }
            return Task.FromResult<IReadOnlyList<int>>([.. all.Select(i => i * 10)]);
        }, maxBatch: 5, ownThreads: ownThreads);
        await using (commit)
        {
            Assert.Equal(0, await commit.WriteAsync(0).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(Enumerable.Range(1, 9).Select(i => i * 10), await Task.WhenAll(arrived!).WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal([0, 1, 2, 3, 4], writes[0]);
        Assert.Equal(Enumerable.Range(5, 5), writes.Skip(1).SelectMany(w => w));
        Assert.All(writes, w => Assert.True(w.Length <= 5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriteThatTookMoreAndFailed_FailsWhatItTook_AndOneThatLeftSomeUnanswered_FailsThemAll(bool ownThreads)
    {
        var writes = 0;
        Task<int>[]? arrived = null;
        GroupCommit<int, int>? commit = null;
        commit = new GroupCommit<int, int>((items, takeMore) =>
        {
            switch (Interlocked.Increment(ref writes))
            {
                case 1:
                    arrived = [commit!.WriteAsync(1), commit.WriteAsync(2)];
                    Assert.Equal([1, 2], takeMore());
                    throw new InvalidOperationException("the database refused the batch");
                case 2:
                    arrived = [commit!.WriteAsync(4)];
                    _ = takeMore();
                    // Answers for what it was given, not for what it took on.
                    return Task.FromResult<IReadOnlyList<int>>([.. items]);
                default:
                    return Task.FromResult<IReadOnlyList<int>>([.. items]);
            }
        }, maxBatch: 10, ownThreads: ownThreads);
        await using (commit)
        {
            var first = await Assert.ThrowsAsync<InvalidOperationException>(() => commit.WriteAsync(0).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal("the database refused the batch", first.Message);
            foreach (var task in arrived!)
            {
                await Assert.ThrowsAsync<InvalidOperationException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
            }

            var unanswered = await Assert.ThrowsAsync<InvalidOperationException>(() => commit.WriteAsync(3).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("answered 1 of the batch's 2 items", unanswered.Message);
            await Assert.ThrowsAsync<InvalidOperationException>(() => arrived![0].WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(5, await commit.WriteAsync(5).WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFailedWrite_FailsEveryCallerInIt_AndTheNextBatchIsWrittenAfter(bool ownThreads)
    {
        var calls = 0;
        await using var commit = new GroupCommit<int, int>(items =>
            Interlocked.Increment(ref calls) == 1
                ? throw new InvalidOperationException("the database refused the batch")
                : Task.FromResult<IReadOnlyList<int>>([.. items]), maxBatch: 100, ownThreads: ownThreads);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => commit.WriteAsync(1));
        Assert.Equal("the database refused the batch", failed.Message);
        Assert.Equal(2, await commit.WriteAsync(2));
    }

    [Fact]
    public async Task Disposing_StopsTheOwnThreadOnceWhatWasQueuedIsWritten()
    {
        var written = 0;
        var commit = new GroupCommit<int, int>(items =>
        {
            Thread.Sleep(5);
            Interlocked.Add(ref written, items.Count);
            return Task.FromResult<IReadOnlyList<int>>([.. items]);
        }, maxBatch: 3, ownThreads: true);
        var pending = Enumerable.Range(0, 10).Select(commit.WriteAsync).ToList();

        await commit.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(10, written);
        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(pending));
        Assert.Throws<ObjectDisposedException>(() => { _ = commit.WriteAsync(11); });
    }
}
