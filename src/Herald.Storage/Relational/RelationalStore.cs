using System.Data.Common;
using Dapper;
using Herald.Storage.Abstractions;

namespace Herald.Storage.Relational;

/// <summary>
/// The SQL both databases share. Each database subclasses it with its connection handling, its
/// migrations and the few statements where its dialect differs (claiming work above all).
/// </summary>
public abstract partial class RelationalStore : IHeraldStore
{
    public abstract Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>How endpoint secrets are kept at rest; plain unless the host sets a protector.</summary>
    public ISecretProtector Secrets { get; init; } = PlainSecrets.Instance;

    /// <summary>
    /// Told of what kept a stats read from keeping a merchant's closed hours (the merchant's id,
    /// and what failed): the read answers from its counts all the same, so the host has it said.
    /// </summary>
    public Action<string, Exception>? KeepingFailed { get; init; }

    public virtual int WriteConcurrency => 1;

    public virtual bool WritesOnCallingThread => false;

    /// <summary>
    /// Whether the database undid a write transaction because it raced another one (a deadlock
    /// between their row locks, say): nothing of it was written, and the same write may simply be
    /// made again. A store with one writer at a time never sees such an error.
    /// </summary>
    protected virtual bool IsWriteRaceLost(DbException error) => false;

    /// <summary>How many times in all a write transaction is made before the error of one the database undid reaches its caller.</summary>
    private const int MaxWriteAttempts = 4;

    /// <summary>
    /// Makes a write transaction, again when the database undid it to break a lock cycle with another
    /// writer (<see cref="IsWriteRaceLost"/>): nothing of it was written then. For the writes that
    /// lock many rows of the hot tables, which the delivery batches lock in another order.
    /// </summary>
    protected async Task<T> WriteAgainIfRaceLostAsync<T>(Func<Task<T>> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (DbException e) when (attempt < MaxWriteAttempts && IsWriteRaceLost(e))
            {
            }
        }
    }

    /// <summary>Opens a connection for reading.</summary>
    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Opens a connection with a write transaction begun. Disposing the returned scope rolls back
    /// unless it was committed.
    /// </summary>
    protected abstract ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="BeginWriteAsync"/>, for a write that need not outlive a power cut: a claim or
    /// its release, which, if lost, only makes the work claimable again. The database may then skip
    /// flushing to disk at commit; what it writes stays consistent, and the next durable commit
    /// flushes it along.
    /// </summary>
    protected virtual ValueTask<WriteScope> BeginLeaseWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(cancellationToken);

    /// <summary>Like <see cref="BeginWriteAsync"/>, for a batch of the hot path written statement by statement.</summary>
    protected virtual ValueTask<WriteScope> BeginBatchWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(cancellationToken);

    /// <summary>
    /// Called inside the transaction that records new notifications, before it commits; a database
    /// that can tell other nodes (PostgreSQL's NOTIFY, sent on commit) does so here.
    /// </summary>
    protected virtual Task OnWorkRecordedAsync(WriteScope scope, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Refuses a database that holds migrations this build does not know (<paramref name="unknownScripts"/>,
    /// as the journal names them): a newer Herald brought it up to date, and this one would write
    /// rows in the shape it knows beside those in the newer one's, which a return to the newer
    /// build could not mend.
    /// </summary>
    protected static void RefuseNewerSchema(IEnumerable<string> unknownScripts)
    {
        var unknown = unknownScripts.Select(MigrationName).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"the database was brought up to date by a newer Herald: it holds {(unknown.Count == 1 ? "a migration" : unknown.Count + " migrations")} this build does not know ({string.Join(", ", unknown)}); "
                + "run that release or a newer one, or restore the backup made before the upgrade");
        }
    }

    /// <summary>A migration as the node names it: its script's file name, without the embedded resource's namespace (<c>Herald.Storage.Sqlite.Schema.</c>).</summary>
    protected static string MigrationName(string script)
    {
        const string Folder = ".Schema.";
        var at = script.IndexOf(Folder, StringComparison.Ordinal);
        return at < 0 ? script : script[(at + Folder.Length)..];
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default) =>
        await DiagnoseAsync(cancellationToken) is null;

    public virtual async Task<string?> DiagnoseAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using (var connection = await OpenAsync(cancellationToken))
            {
                if (await ProbeAsync(connection, cancellationToken) is { } trouble)
                {
                    return trouble.Status();
                }
            }
        }
        catch (DbException e)
        {
            // Whatever kept it from answering the probe leaves it unusable, named or not.
            return (TroubleOf(e) ?? DatabaseTrouble.Unreachable).Status();
        }
        return WriteTrouble switch
        {
            null => null,
            // Still so by what the store can look at without writing (no room on the disk): kept.
            { } held when !TroubleOver(held) => NoteWriteTrouble(held).Status(),
            // One a small write of its own could pass while the changes it met still fail: only a
            // change written, or time, tells it is over.
            { } held when !WriteCheckTells(held) => held.Status(),
            _ => (await WriteTroubleNowAsync(cancellationToken))?.Status(),
        };
    }

    /// <summary>
    /// Whether a trouble a write met may be over, by what the store can look at without writing;
    /// true when it cannot tell (a write then tells). SQLite's full disk is over only once its
    /// volume has room again: a small write may well commit into log pages the failed one took.
    /// </summary>
    protected virtual bool TroubleOver(DatabaseTrouble trouble) => true;

    /// <summary>
    /// Whether a readiness check's own small write committing tells that <paramref name="trouble"/>
    /// is over. PostgreSQL's full disk: no, an update of a row in a page it has may pass while the
    /// inserts of a change, which need new pages, fail.
    /// </summary>
    protected virtual bool WriteCheckTells(DatabaseTrouble trouble) => true;

    /// <summary>
    /// Whether a write still meets the trouble one last met (see <see cref="WriteTrouble"/>): the
    /// probe above answers on a full disk, and with no work to do no write may come to tell. A row
    /// of its own is written and committed: null when that commits (which clears the trouble), the
    /// trouble it met otherwise.
    /// </summary>
    private async Task<DatabaseTrouble?> WriteTroubleNowAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = await BeginWriteAsync(cancellationToken);
            await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO write_checks (id, checks) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET checks = write_checks.checks + 1",
                null, cancellationToken));
            await scope.CommitAsync(cancellationToken);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return TroubleOf(e) ?? WriteTrouble ?? DatabaseTrouble.Unreachable;
        }
    }

    /// <summary>Asks the database, on <paramref name="connection"/>, whether it can be used: null when it answers as it should.</summary>
    protected virtual async Task<DatabaseTrouble?> ProbeAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)) == 1
            ? null
            : DatabaseTrouble.Unreachable;

    public DatabaseTrouble? TroubleOf(Exception error)
    {
        for (var inner = (Exception?)error; inner is not null; inner = inner.InnerException)
        {
            if ((inner is DbException failure ? TroubleOf(failure) : RefusalOf(inner)) is { } trouble)
            {
                return trouble is DatabaseTrouble.DiskFull or DatabaseTrouble.ReadOnly or DatabaseTrouble.FileUnusable
                    ? NoteWriteTrouble(trouble)
                    : trouble;
            }
        }
        return null;
    }

    /// <summary>
    /// A trouble a write (or a read) ran into that the readiness probe does not see, the database
    /// answering it all the same: a full disk, a read-only file or server, a file that cannot be
    /// written. The node is not ready while it lasts: until a write commits again, or, with none
    /// tried, for <see cref="WriteTroubleHeld"/> after it was last seen. A commit that wrote nothing
    /// (a claim finding no work) tells nothing: an empty transaction commits on a full disk.
    /// </summary>
    private DatabaseTrouble? WriteTrouble =>
        _writeTrouble is { } seen && Environment.TickCount64 - seen.At < (long)WriteTroubleHeld.TotalMilliseconds ? seen.Trouble : null;

    /// <summary>How long a trouble seen by a write keeps the node not ready, with no write committed since.</summary>
    internal static readonly TimeSpan WriteTroubleHeld = TimeSpan.FromMinutes(1);

    private sealed record SeenTrouble(DatabaseTrouble Trouble, long At);

    private DatabaseTrouble NoteWriteTrouble(DatabaseTrouble trouble)
    {
        _writeTrouble = new(trouble, Environment.TickCount64);
        return trouble;
    }

    private volatile SeenTrouble? _writeTrouble;

    /// <summary>A write that changed something committed: whatever trouble writes ran into is over, once the store sees nothing against it.</summary>
    private void WriteCommitted()
    {
        if (_writeTrouble is { } seen && TroubleOver(seen.Trouble))
        {
            _writeTrouble = null;
        }
    }

    /// <summary>What the driver's <paramref name="failure"/> says keeps the database from being used now; null when it says something else.</summary>
    protected abstract DatabaseTrouble? TroubleOf(DbException failure);

    /// <summary>The trouble <paramref name="error"/> is when it is the store's own refusal to use the database (not the driver's); null otherwise.</summary>
    protected virtual DatabaseTrouble? RefusalOf(Exception error) => null;

    /// <summary>
    /// A connection with a write transaction, committed explicitly. Disposing it rolls back what was
    /// not committed, closes the connection unless the store keeps it, then calls
    /// <paramref name="onDispose"/> with whether all of that went cleanly. <paramref name="wrote"/>
    /// tells, before the commit, whether the transaction changed anything (asked only while a
    /// write's trouble is held; null: assume it did).
    /// </summary>
    protected sealed class WriteScope(RelationalStore store, DbConnection connection, DbTransaction transaction, Action<bool>? onDispose = null, bool ownsConnection = true,
        Func<WriteScope, CancellationToken, ValueTask<bool>>? wrote = null) : IAsyncDisposable
    {
        public DbConnection Connection { get; } = connection;
        public DbTransaction Transaction { get; } = transaction;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            // A commit that wrote nothing (a claim finding no work) tells nothing of a trouble:
            // an empty transaction commits on a full disk.
            var tells = store._writeTrouble is not null && (wrote is null || await wrote(this, cancellationToken));
            await Transaction.CommitAsync(cancellationToken);
            if (tells)
            {
                store.WriteCommitted();
            }
        }

        public CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken) =>
            new(sql, parameters, Transaction, cancellationToken: cancellationToken);

        public async ValueTask DisposeAsync()
        {
            var clean = false;
            try
            {
                await Transaction.DisposeAsync();
                if (ownsConnection)
                {
                    await Connection.DisposeAsync();
                }
                clean = true;
            }
            finally
            {
                onDispose?.Invoke(clean);
            }
        }
    }

    protected static CommandDefinition Read(string sql, object? parameters, CancellationToken cancellationToken) =>
        new(sql, parameters, cancellationToken: cancellationToken);
}
