using DbUp;
using DbUp.Engine.Output;
using Herald.Entities;
using Herald.Storage.Model;
using Herald.Storage.Relational;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

/// <summary>
/// The embedded store. SQLite has a single writer per database, so writes queue on an in-process
/// gate instead of spinning on SQLITE_BUSY, and go through one connection kept open for them, with
/// the hot path's statements prepared once; readers run beside them thanks to WAL.
/// </summary>
public sealed partial class SqliteStore : RelationalStore, IDisposable
{
    // The claim condition of ordered endpoints: a notification waits while an earlier version of the
    // same entity is still pending for the same endpoint (found through the entity and its events:
    // CROSS JOIN keeps SQLite from reading the endpoint's whole pending list instead).
    private const string OrderedGate = """
        (e.ordered = FALSE OR NOT EXISTS (
          SELECT 1 FROM entities en CROSS JOIN events ev CROSS JOIN notifications p ON p.event_id = ev.id
          WHERE en.kind = n.entity_kind AND en.id = n.entity_id AND ev.entity_seq = en.seq AND p.endpoint_id = n.endpoint_id
            AND p.status = 'pending' AND p.entity_version < n.entity_version))
        """;

    // SQLite lacks FOR UPDATE SKIP LOCKED; with one writer at a time the plain subquery is already exclusive.
    private static string ClaimWith(string now, string leaseUntil, string token, string limit) => $"""
        UPDATE notifications SET leased_until = {leaseUntil}, lease_token = {token}
        WHERE id IN (
          SELECT n.id FROM notifications n JOIN endpoints e ON e.id = n.endpoint_id
          WHERE n.status = 'pending' AND n.next_attempt_at <= {now} AND e.enabled = 1
            AND (n.leased_until IS NULL OR n.leased_until <= {now})
            AND {OrderedGate}
          ORDER BY n.next_attempt_at
          LIMIT {limit})
        RETURNING {ClaimReturning}
        """;

    private static readonly string Claim = ClaimWith("@now", "@lease_until", "@token", "@limit");

    // The same, as the writer prepares it once (its parameters numbered).
    private static readonly string PreparedClaim = ClaimWith(Parameter(0), Parameter(1), Parameter(2), Parameter(3));

    // Checkpoints (copying the WAL back into the database file, and flushing it) run on their own
    // connection every CheckpointEvery, beside the writes rather than inside one, and copy most of
    // the log. But under a steady stream of commits a background checkpoint never finds the log
    // whole (a commit lands while it copies), so the log could not start over on their account:
    // it grew to the commit-side threshold, whose checkpoints then had megabytes to copy and held
    // the writes up (the p99 at 1,000 changes/s was 60-70 ms on a grown database). So a commit
    // checkpoints once the log reaches 2,000 pages (8 MB), finding nearly all of it copied
    // already, and the log starts over after it (p99 under 30 ms); it is cut back to 64 MB then.
    private const string CheckpointPragmas = "PRAGMA wal_autocheckpoint=2000; PRAGMA journal_size_limit=67108864;";
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromMilliseconds(250);

    private readonly string _databasePath;
    private readonly string _connectionString;
    private readonly string _writerConnectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    // The writer's connection and its prepared statements, used only by whoever holds the write gate.
    private SqliteConnection? _writer;
    private bool _writerDurable;
    private readonly Dictionary<string, Statement> _statements = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _checkpoints;
    private int _disposed;

    // Before any connection: the log's frames reach the file a commit at a time (see WalWriteCoalescing).
    static SqliteStore() => WalWriteCoalescing.Install();

    public SqliteStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SqliteStoreOptions.CreateDataDirectory(options.DataDirectory);
        RefuseLeftLog(options.DatabasePath);
        options.CreateDatabaseFile();
        RefuseReadOnly(options.DataDirectory, options.DatabasePath);
        _databasePath = options.DatabasePath;
        _databaseAsOpened = PathAsOpened(options.DatabasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            // Made above, once: a connection opened after the file was removed under the node fails
            // (the file is gone) rather than making an empty database at its path.
            Mode = SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writerConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString();
    }

    /// <summary>
    /// Refuses a data folder whose database file is missing while its log is there: the database
    /// was moved or removed, and a new empty one would be made beside what is left of the old.
    /// </summary>
    private static void RefuseLeftLog(string databasePath)
    {
        if (!File.Exists(databasePath) && File.Exists(databasePath + "-wal"))
        {
            throw new IOException($"{databasePath} is missing, but its log {databasePath}-wal is there: the database was moved or removed. " +
                $"Restore it; or, to start with an empty database, remove {databasePath}-wal and {databasePath}-shm");
        }
    }

    /// <summary>
    /// Refuses a database this user cannot write (the file, its log and shared-memory files, or the
    /// folder they are made in): every change would be refused while the node looked ready.
    /// </summary>
    private static void RefuseReadOnly(string dataDirectory, string databasePath)
    {
        foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
        {
            if (!File.Exists(path))
            {
                continue;
            }
            try
            {
                using var _ = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (UnauthorizedAccessException)
            {
                throw new IOException($"{path} cannot be written by this user: Herald could record nothing. Give the user running Herald write access to it (and to {dataDirectory})");
            }
        }
        var probe = Path.Combine(dataDirectory, $".herald-write-check-{Environment.ProcessId}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new IOException($"{dataDirectory} cannot be written by this user: SQLite makes the database's log there, so Herald could record nothing. Give the user running Herald write access to it");
        }
    }

    protected override string ClaimSql => Claim;

    // Every write is SQLite's own calls on the caller's thread, the flush included.
    public override bool WritesOnCallingThread => true;

    // SQLite's planner has no statistics to go by: CROSS JOIN keeps the endpoints outside, and the
    // parked notifications are read through their own index, never the due one (which holds them too).
    protected override string UnparkableSql => """
        SELECT n.id FROM endpoints e CROSS JOIN notifications n INDEXED BY notifications_parked
        WHERE e.enabled = 1 AND e.deleted_at IS NULL AND n.endpoint_id = e.id
          AND n.status = 'pending' AND n.next_attempt_at IS NULL
        """;

    // The few recently deleted endpoints outside, each looked up in the endpoint index.
    protected override string OrphanedSql => """
        SELECT n.id FROM endpoints e CROSS JOIN notifications n INDEXED BY notifications_endpoint
        WHERE e.deleted_at >= @since AND n.endpoint_id = e.id AND n.status = 'pending'
          AND (n.leased_until IS NULL OR n.leased_until <= @now OR e.deleted_at < @settled)
        """;

    // The unary plus keeps SQLite from walking the merchant's log in id order in search of the entity or the event.
    protected override string MerchantOfEntityLookup => "+merchant_id = @merchantId";

    // CROSS JOIN keeps the first table outside; the unary plus keeps the inner table's filter off
    // an index, so each outer row's partner is looked up by its key.
    protected override (string MerchantFirst, string WindowFirst)? MerchantAttemptsInOrder => (
        """
        FROM notifications n CROSS JOIN attempts a
        WHERE n.merchant_id = @merchantId AND a.notification_id = n.id AND +a.started_at >= @since AND +a.started_at < @until
        """,
        """
        FROM attempts a CROSS JOIN notifications n
        WHERE a.started_at >= @since AND a.started_at < @until AND n.id = a.notification_id AND +n.merchant_id = @merchantId
        """);

    protected override string NotificationsByEndpointSource => "notifications INDEXED BY notifications_endpoint";

    protected override string QueueStatsSource => "notifications INDEXED BY notifications_due";

    // Events are found by their entity's sequence number (the entities' row id), whose index a new
    // entity's events join at its end; the entity by its id under each kind. Operator events have
    // no entity row: each is its own subject.
    protected override string EventsOfEntity(string merchantId) =>
        merchantId == OperatorEventTypes.OperatorMerchantId ? base.EventsOfEntity(merchantId) : EventsOfEntityBySequence;

    // An entity's own events, through the index on its sequence number.
    protected override string EventOfEntityVersion => "ev.entity_seq = entities.seq";

    private static readonly string EventsOfEntityBySequence =
        $"entity_seq IN (SELECT seq FROM entities WHERE kind IN ({string.Join(", ", EntityKinds.All.Select(k => $"'{k.ApiName()}'"))}) AND id = @entityId AND merchant_id = @merchantId)";

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
        // Foreign keys off while migrating, whatever SQLite was built with: a table rebuilt drops
        // the old one while other tables still refer to it.
        var migrations = new SqliteConnectionStringBuilder(_connectionString) { ForeignKeys = false }.ToString();
        var upgrader = DeployChanges.To.SqliteDatabase(migrations)
            .WithScriptsEmbeddedInAssembly(typeof(SqliteStore).Assembly)
            .WithTransactionPerScript()
            .LogTo(new NoOpUpgradeLog())
            .Build();
        RefuseNewerSchema(upgrader.GetExecutedButNotDiscoveredScripts());
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
        IReadOnlyList<string> applied = result.Scripts.Select(s => MigrationName(s.Name)).ToList();
        _checkpoints ??= Task.Run(CheckpointLoopAsync);
        return Task.FromResult(applied);
    }

    /// <summary>
    /// Writes the database of <paramref name="source"/> as it was at one moment to the new file
    /// <paramref name="destination"/>, while a node may go on writing to it: SQLite's <c>VACUUM INTO</c>
    /// reads one snapshot under a read transaction, which no writer waits for in WAL mode. The copy
    /// is checked and on the disk when this returns.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no database at the source.</exception>
    /// <exception cref="InvalidDataException">The copy does not pass SQLite's check.</exception>
    public static async Task BackupAsync(SqliteStoreOptions source, string destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (!File.Exists(source.DatabasePath))
        {
            throw new FileNotFoundException($"there is no Herald database at {source.DatabasePath}", source.DatabasePath);
        }
        await using (var connection = new SqliteConnection(ReadOnly(source.DatabasePath)))
        {
            await connection.OpenAsync(cancellationToken);
            await using var vacuum = connection.CreateCommand();
            vacuum.CommandText = "VACUUM INTO @destination";
            vacuum.Parameters.AddWithValue("@destination", Path.GetFullPath(destination));
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var copy = new SqliteConnection(ReadOnly(destination)))
        {
            await copy.OpenAsync(cancellationToken);
            await using var check = copy.CreateCommand();
            check.CommandText = "PRAGMA quick_check";
            if (await check.ExecuteScalarAsync(cancellationToken) is not "ok" and var found)
            {
                throw new InvalidDataException($"the copy at {destination} failed SQLite's check: {found}");
            }
        }
        // VACUUM INTO leaves its file to the operating system's cache; a backup is on the disk.
        await using (var file = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Flush(flushToDisk: true);
        }

        static string ReadOnly(string path) =>
            new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 }.ToString();
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
        if (_writeGate.Wait(TimeSpan.FromSeconds(5)))
        {
            CloseWriter();
        }
        _writeGate.Dispose();
    }
}
