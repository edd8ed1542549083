using System.Data.Common;
using Herald.Storage.Abstractions;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Storage.Sqlite;

// The one writer: its connection, its write scopes, and the checkpoints beside it.
public sealed partial class SqliteStore
{
    private async Task CheckpointLoopAsync()
    {
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(_stopping.Token);
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            using var timer = new PeriodicTimer(CheckpointEvery);
            var ticks = 0;
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                FileInPlace(lookAtDescriptors: ticks++ % 4 == 0);
                try
                {
                    await checkpoint.ExecuteNonQueryAsync(_stopping.Token);
                }
                catch (SqliteException)
                {
                    // Busy or briefly unavailable: the next tick tries again, and commits checkpoint
                    // on their own past 2,000 pages.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Readers only read (every write goes through the writer below): the writer's settings are no
    // concern of theirs, and a pooled connection comes back ready without a statement run on it.
    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async ValueTask<DbConnection> OpenWriterAsync(bool durable, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_writerConnectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragmas = connection.CreateCommand();
        // synchronous=FULL: a committed change survives a power cut, not just a process crash.
        // NORMAL (for leases only) skips the flush at commit; WAL keeps the file consistent either way.
        pragmas.CommandText = durable ? $"PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; {CheckpointPragmas}" : $"PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; {CheckpointPragmas}";
        await pragmas.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    protected override ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: true, cancellationToken);

    protected override ValueTask<WriteScope> BeginLeaseWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: false, cancellationToken);

    private async ValueTask<WriteScope> BeginWriteAsync(bool durable, CancellationToken cancellationToken)
    {
        // A change is answered only once it is in the database's file: with the file gone (its folder
        // removed under a running node) nothing is written that the next start would not find.
        if (FileGone)
        {
            throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.Unavailable,
                DatabaseTroubleWords.FileGoneRefusal) { RetryAfter = TimeSpan.FromSeconds(5) };
        }
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            if (_writer is null)
            {
                // Outside the pool: its cache and settings are the writer's, never a reader's.
                _writer = (SqliteConnection)await OpenWriterAsync(durable, cancellationToken);
                _writerDurable = durable;
                // The writer keeps SQLite's default page cache (2 MB). A larger one spares a few
                // reads, but SQLite walks its whole cache at the end of every write transaction
                // (trimming it to the database's size): with 64 MB a commit of 16 changes and 16
                // attempts took 3.8 ms, with 16 MB 3.5 ms, with 2 MB 2.6 ms (512 kB: 2.9 ms, the
                // statements then waiting on reads).
            }
            else if (_writerDurable != durable)
            {
                Step(Prepared(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
                _writerDurable = durable;
            }
            var transaction = _writer.BeginTransaction();
            _changesAtBegin = raw.sqlite3_total_changes(_writer.Handle);
            // Whatever went wrong may have left the connection unusable: the next write opens a new one.
            return new WriteScope(this, _writer, transaction, clean => EndWrite(closeWriter: !clean), ownsConnection: false,
                wrote: _wroteSinceBegin ??= WroteSinceBegin);
        }
        catch
        {
            EndWrite(closeWriter: true);
            throw;
        }
    }

    // The writer's count of rows changed when the write under way began (one write at a time, under the gate).
    private long _changesAtBegin;
    private Func<WriteScope, CancellationToken, ValueTask<bool>>? _wroteSinceBegin;

    /// <summary>Whether the write under way has changed a row (see <see cref="RelationalStore"/>'s write scope).</summary>
    private ValueTask<bool> WroteSinceBegin(WriteScope scope, CancellationToken cancellationToken) =>
        ValueTask.FromResult(raw.sqlite3_total_changes(((SqliteConnection)scope.Connection).Handle) != _changesAtBegin);

    /// <summary>Gives the write gate back, closing the writer's connection first when asked to.</summary>
    private void EndWrite(bool closeWriter)
    {
        try
        {
            if (closeWriter)
            {
                CloseWriter();
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void CloseWriter()
    {
        foreach (var statement in _statements.Values)
        {
            statement.Handle.Dispose();
        }
        _statements.Clear();
        _writer?.Dispose();
        _writer = null;
    }

    // The hot path's statements are prepared once on the writer's connection and stepped with
    // SQLite's own calls: a SqliteCommand makes a binder object per parameter and a data reader per
    // execution, which for a batch's few hundred rows cost more than SQLite's work on them. The
    // statements run inside the transaction the scope began on the same connection.

    /// <summary>A statement on the writer's connection and where each of its parameters <c>@c0</c>, <c>@c1</c>, … is bound (SQLite numbers them in the order they first appear).</summary>
    /// <param name="Handle">The statement, kept (and so kept alive) until the writer closes.</param>
    /// <param name="Raw">Its native handle, for <see cref="SqliteNative"/>'s calls.</param>
    /// <param name="Slots">Where each parameter is bound.</param>
    /// <param name="Columns">The names of the columns it returns, in their order.</param>
    private readonly record struct Statement(sqlite3_stmt Handle, nint Raw, int[] Slots, string[] Columns);
}
