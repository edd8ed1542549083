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
    // SQLite lacks FOR UPDATE SKIP LOCKED; with one writer at a time the plain subquery is already exclusive.
    private const string Claim = $"""
        UPDATE notifications SET next_attempt_at = @lease_until, lease_token = @token
        WHERE id IN (
          SELECT n.id FROM notifications n JOIN endpoints e ON e.id = n.endpoint_id
          WHERE n.status = 'pending' AND n.next_attempt_at <= @now AND e.enabled = 1
            AND {OrderedGate}
          ORDER BY n.next_attempt_at
          LIMIT @limit)
        RETURNING {ClaimReturning}
        """;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

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
        return Task.FromResult(applied);
    }

    private static string ShortName(string resourceName)
    {
        const string prefix = "Herald.Storage.Sqlite.Schema.";
        return resourceName.StartsWith(prefix, StringComparison.Ordinal) ? resourceName[prefix.Length..] : resourceName;
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        using var pragmas = connection.CreateCommand();
        // synchronous=FULL: a committed change survives a power cut, not just a process crash.
        pragmas.CommandText = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
        await pragmas.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    protected override async ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var connection = await OpenAsync(cancellationToken);
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new WriteScope(connection, transaction, () => _writeGate.Release());
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    public void Dispose() => _writeGate.Dispose();
}
