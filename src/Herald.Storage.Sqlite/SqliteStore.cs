using System.Data.Common;
using DbUp;
using DbUp.Engine.Output;
using Herald.Storage.Relational;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

/// <summary>
/// The embedded store. SQLite has a single writer per database, so writes queue on an in-process
/// gate instead of spinning on SQLITE_BUSY; readers run beside them thanks to WAL.
/// </summary>
public sealed class SqliteStore : RelationalStore, IDisposable
{
    // The claim condition of ordered endpoints: a notification waits while an earlier version of the
    // same entity is still pending for the same endpoint.
    private const string OrderedGate = """
        (e.ordered = FALSE OR NOT EXISTS (
          SELECT 1 FROM notifications p
          WHERE p.endpoint_id = n.endpoint_id AND p.entity_id = n.entity_id
            AND p.status = 'pending' AND p.entity_version < n.entity_version))
        """;

    // SQLite lacks FOR UPDATE SKIP LOCKED; with one writer at a time the plain subquery is already exclusive.
    private const string Claim = $"""
        UPDATE notifications SET leased_until = @lease_until, lease_token = @token
        WHERE id IN (
          SELECT n.id FROM notifications n JOIN endpoints e ON e.id = n.endpoint_id
          WHERE n.status = 'pending' AND n.next_attempt_at <= @now AND e.enabled = 1
            AND (n.leased_until IS NULL OR n.leased_until <= @now)
            AND {OrderedGate}
          ORDER BY n.next_attempt_at
          LIMIT @limit)
        RETURNING {ClaimReturning}
        """;

    // Checkpoints (copying the WAL back into the database file, and flushing it) run on their own
    // connection every CheckpointEvery, beside the writes rather than inside one: a commit that
    // had to checkpoint held every other write up. A commit still checkpoints if the WAL ever
    // reaches 10,000 pages (40 MB), should the background ones fall behind; the WAL is cut back
    // to 64 MB when it restarts.
    private const string CheckpointPragmas = "PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;";
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(250);

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _checkpoints;
    private int _disposed;

    public SqliteStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.DataDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    protected override string ClaimSql => Claim;

    // Herald's data folder belongs to one node: every endpoint write passes through here.
    protected override bool OwnsEndpoints => true;

    public override Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        using (var connection = new SqliteConnection(_connectionString))
        {
            connection.Open();
            using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }
        var upgrader = DeployChanges.To.SqliteDatabase(_connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteStore).Assembly)
            .WithTransactionPerScript()
            .LogTo(new NoOpUpgradeLog())
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
        IReadOnlyList<string> applied = result.Scripts.Select(s => ShortName(s.Name)).ToList();
        _checkpoints ??= Task.Run(CheckpointLoopAsync);
        return Task.FromResult(applied);
    }

    private async Task CheckpointLoopAsync()
    {
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(_stopping.Token);
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            using var timer = new PeriodicTimer(CheckpointEvery);
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await checkpoint.ExecuteNonQueryAsync(_stopping.Token);
                }
                catch (SqliteException)
                {
                    // Busy or briefly unavailable: the next tick tries again, and commits checkpoint
                    // on their own past 10,000 pages.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string ShortName(string resourceName)
    {
        const string prefix = "Herald.Storage.Sqlite.Schema.";
        return resourceName.StartsWith(prefix, StringComparison.Ordinal) ? resourceName[prefix.Length..] : resourceName;
    }

    protected override ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) => OpenAsync(durable: true, cancellationToken);

    private async ValueTask<DbConnection> OpenAsync(bool durable, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
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
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var connection = await OpenAsync(durable, cancellationToken);
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new WriteScope(connection, transaction, () => _writeGate.Release());
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    public void Dispose()
    {
        // The host may hand this store out under two service types and dispose it for each.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stopping.Cancel();
        try
        {
            _checkpoints?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends on cancellation; anything else it met is of no use at shutdown.
        }
        _stopping.Dispose();
        _writeGate.Dispose();
    }
}
