using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Text;
using DbUp;
using DbUp.Engine.Output;
using Herald.Entities;
using Herald.Storage.Model;
using Herald.Storage.Abstractions;
using Herald.Storage.Relational;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Storage.Sqlite;

/// <summary>
/// The embedded store. SQLite has a single writer per database, so writes queue on an in-process
/// gate instead of spinning on SQLITE_BUSY, and go through one connection kept open for them, with
/// the hot path's statements prepared once; readers run beside them thanks to WAL.
/// </summary>
public sealed class SqliteStore : RelationalStore, IDisposable
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
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
        IReadOnlyList<string> applied = result.Scripts.Select(s => ShortName(s.Name)).ToList();
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

    private static string ShortName(string resourceName)
    {
        const string prefix = "Herald.Storage.Sqlite.Schema.";
        return resourceName.StartsWith(prefix, StringComparison.Ordinal) ? resourceName[prefix.Length..] : resourceName;
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

    /// <summary>
    /// Null when the database answers and its file is still where the store opened it: a file removed
    /// while it is open still takes writes, which would be gone at the next start.
    /// </summary>
    public override async Task<string?> DiagnoseAsync(CancellationToken cancellationToken = default) =>
        FileInPlace() ? await base.DiagnoseAsync(cancellationToken)
        // A file removed under the node is the operator's to restore, not a database to wait for.
        : (FileGone ? DatabaseTrouble.FileGone : DatabaseTrouble.Unreachable).Status();

    // Its refusal to write once the file is gone (see BeginWriteAsync).
    protected override DatabaseTrouble? RefusalOf(Exception error) =>
        error is Herald.Errors.HeraldException { Kind: Herald.Errors.ErrorKind.Unavailable } && FileGone ? DatabaseTrouble.FileGone : null;

    protected override DatabaseTrouble? TroubleOf(DbException failure) => failure switch
    {
        SqliteException { SqliteErrorCode: raw.SQLITE_FULL } => DatabaseTrouble.DiskFull,
        SqliteException { SqliteErrorCode: raw.SQLITE_READONLY } => DatabaseTrouble.ReadOnly,
        // A connection opened anew finds no file at the path: it was removed under the node.
        SqliteException { SqliteErrorCode: raw.SQLITE_CANTOPEN } when !FileInPlace(lookAtDescriptors: false) => DatabaseTrouble.FileGone,
        SqliteException { SqliteErrorCode: raw.SQLITE_IOERR or raw.SQLITE_CANTOPEN } => DatabaseTrouble.FileUnusable,
        _ => null,
    };

    /// <summary>
    /// Whether the database's file is where the store opened it, noted for the writes: looked at by
    /// the checkpoint loop (four times a second) and by each readiness check, not by every write.
    /// </summary>
    private bool FileInPlace(bool lookAtDescriptors = true)
    {
        if (Volatile.Read(ref _removed))
        {
            return false;
        }
        // An open file of the database removed from its path is proof, and stays so: a file made
        // anew there is not the one the open connections write to. (Every open descriptor is looked
        // at: the checkpoint loop does so once a second, not at each of its ticks.)
        if (lookAtDescriptors && OpenFileRemoved())
        {
            Volatile.Write(ref _removed, true);
            return false;
        }
        // Its log too, while the writer holds it open (SQLite removes the log only when its last
        // connection closes): a log removed under a running node takes the changes written since
        // its last checkpoint with it at the next start, as a removed database file takes them all.
        // Not found at a look is not proof (a network disk may fail a look now and then), and is
        // looked at again at the next.
        var inPlace = File.Exists(_databasePath)
            && (Volatile.Read(ref _writer) is null || File.Exists(_databasePath + "-wal"));
        Volatile.Write(ref _missing, !inPlace);
        return inPlace;
    }

    // Set while the last look did not find the database's file or its log at its path (see FileInPlace).
    private bool _missing;

    // Set once an open file of the database is found removed from its path: for good, until a restart.
    private bool _removed;

    /// <summary>Whether the database's file or its log was found removed under the running store: it takes no change meanwhile (once its open file is seen removed, until a restart).</summary>
    public bool FileGone => Volatile.Read(ref _removed) || Volatile.Read(ref _missing);

    // The database file's path as the kernel names it (links resolved), null where it does not say.
    private readonly string? _databaseAsOpened;

    private const string Descriptors = "/proc/self/fd";

    /// <summary>
    /// The path the kernel gives an open file of <paramref name="path"/> (its links resolved), read
    /// from the process's descriptors on Linux; null elsewhere.
    /// </summary>
    private static string? PathAsOpened(string path)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(Descriptors))
        {
            return null;
        }
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new FileInfo($"{Descriptors}/{file.DangerousGetHandle()}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether one of this process's open files is the database or its log removed from its path
    /// (Linux names such a descriptor's file "… (deleted)"). A file of the same name made anew
    /// there, as the next connection SQLite opens does, passes a look at the path alone.
    /// </summary>
    private bool OpenFileRemoved()
    {
        if (_databaseAsOpened is null)
        {
            return false;
        }
        const string Removed = " (deleted)";
        try
        {
            foreach (var descriptor in new DirectoryInfo(Descriptors).EnumerateFileSystemInfos())
            {
                string? target;
                try
                {
                    target = descriptor.LinkTarget;
                }
                catch (IOException)
                {
                    continue; // closed since it was listed
                }
                if (target is not null && target.EndsWith(Removed, StringComparison.Ordinal)
                    && target.StartsWith(_databaseAsOpened, StringComparison.Ordinal))
                {
                    var rest = target.AsSpan(_databaseAsOpened.Length, target.Length - _databaseAsOpened.Length - Removed.Length);
                    if (rest.IsEmpty || rest.SequenceEqual("-wal"))
                    {
                        return true;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }

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
            // Whatever went wrong may have left the connection unusable: the next write opens a new one.
            return new WriteScope(this, _writer, transaction, clean => EndWrite(closeWriter: !clean), ownsConnection: false);
        }
        catch
        {
            EndWrite(closeWriter: true);
            throw;
        }
    }

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

    /// <summary>A statement on the writer's connection, prepared the first time it is asked for.</summary>
    private Statement Prepared(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            var db = _writer!.Handle!;
            Check(raw.sqlite3_prepare_v2(db, sql, out var handle), db);
            var slots = new int[raw.sqlite3_bind_parameter_count(handle)];
            for (var c = 0; c < slots.Length; c++)
            {
                slots[c] = raw.sqlite3_bind_parameter_index(handle, Parameter(c));
                if (slots[c] == 0)
                {
                    handle.Dispose();
                    throw new InvalidOperationException($"the statement's parameters are not @c0..@c{slots.Length - 1}: {sql}");
                }
            }
            var columns = new string[raw.sqlite3_column_count(handle)];
            for (var c = 0; c < columns.Length; c++)
            {
                columns[c] = raw.sqlite3_column_name(handle, c).utf8_to_string();
            }
            statement = new Statement(handle, handle.DangerousGetHandle(), slots, columns);
            _statements[sql] = statement;
        }
        return statement;
    }

    /// <summary>Steps a statement that returns no rows to its end; answers how many rows it changed.</summary>
    private int Step(Statement statement)
    {
        var db = _writer!.Handle!;
        try
        {
            var rc = SqliteNative.sqlite3_step(statement.Raw);
            if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
            {
                Check(rc, db);
            }
            return SqliteNative.sqlite3_changes(db.DangerousGetHandle());
        }
        finally
        {
            SqliteNative.sqlite3_reset(statement.Raw);
        }
    }

    private static void Check(int rc, sqlite3 db)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
    }

    /// <summary>Binds <paramref name="values"/> to the statement's parameters <c>@c0</c>, <c>@c1</c>, … in order.</summary>
    private static void Bind(Statement statement, object?[] values)
    {
        for (var c = 0; c < values.Length; c++)
        {
            Bind(statement, statement.Slots[c], values[c]);
        }
    }

    private static unsafe void Bind(Statement statement, int index, object? value)
    {
        int rc;
        switch (value)
        {
            case null:
                rc = SqliteNative.sqlite3_bind_null(statement.Raw, index);
                break;
            case string text:
                rc = BindText(statement.Raw, index, text);
                break;
            case long number:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, number);
                break;
            case int number:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, number);
                break;
            case bool flag:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, flag ? 1 : 0);
                break;
            default:
                throw new ArgumentException($"no SQLite binding for a {value.GetType().Name}", nameof(value));
        }
        if (rc != raw.SQLITE_OK)
        {
            SqliteNative.sqlite3_reset(statement.Raw);
            Check(rc, raw.sqlite3_db_handle(statement.Handle));
        }
    }

    /// <summary>
    /// Binds text as UTF-8, what the database keeps: text bound as UTF-16 is translated by SQLite's
    /// own loop, a character at a time, when the statement runs; .NET's encoder is many times
    /// faster. SQLite copies the bytes before the call returns (a transient binding).
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static unsafe int BindText(nint statement, int index, string text)
    {
        const int OnStack = 1024;
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        // Never empty, so that an empty text is bound by a pointer (a null one would bind NULL).
        var buffer = most <= OnStack ? stackalloc byte[OnStack] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, buffer);
            fixed (byte* bytes = buffer)
            {
                return SqliteNative.sqlite3_bind_text(statement, index, bytes, length, SqliteNative.Transient);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Runs <paramref name="sql"/> once per row of <paramref name="rows"/> in the scope's transaction (its parameters <c>@c0</c>, <c>@c1</c>, … in column order); answers, per row, how many rows it changed.</summary>
    private int[] ExecutePerRow(string sql, RowSet rows, CancellationToken cancellationToken)
    {
        var changed = new int[rows.Count];
        if (rows.Count == 0)
        {
            return changed;
        }
        var statement = Prepared(sql);
        if (statement.Slots.Length != rows.ColumnTypes.Count)
        {
            throw new InvalidOperationException($"the statement's parameters are not @c0..@c{rows.ColumnTypes.Count - 1}: {sql}");
        }
        for (var r = 0; r < rows.Count; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Bind(statement, rows.Rows[r]);
            changed[r] = Step(statement);
        }
        return changed;
    }

    private static string Parameter(int column) => string.Create(CultureInfo.InvariantCulture, $"@c{column}");

    private static string InsertSql(string table, RowSet rows, string suffix = "") =>
        $"INSERT INTO {table} ({rows.Columns}) VALUES ({ValueList(rows)}){suffix}";

    private static string ValueList(RowSet rows) => string.Join(", ", Enumerable.Range(0, rows.ColumnTypes.Count).Select(Parameter));

    // SQLite runs in-process: a statement prepared once and stepped per row costs less than parsing
    // and binding a multi-row one each time.
    protected override Task InsertRowsAsync(WriteScope scope, string table, RowSet rows, CancellationToken cancellationToken)
    {
        ExecutePerRow(InsertSql(table, rows), rows, cancellationToken);
        return Task.CompletedTask;
    }

    protected override async Task<IReadOnlyCollection<int>> InsertChangesAsync(WriteScope scope, ChangeRows rows, CancellationToken cancellationToken)
    {
        var taken = new HashSet<int>(rows.Written);
        taken.UnionWith(Changed(ExecutePerRow(UpdateSql, rows.Updates, cancellationToken)).Select(r => rows.UpdatedBy[r]));
        var created = ExecutePerRow(InsertSql("entities", rows.Creates, " ON CONFLICT DO NOTHING"), rows.Creates, cancellationToken);
        taken.UnionWith(Changed(created).Select(r => rows.CreatedBy[r]));
        if (taken.Count > 0)
        {
            var events = rows.Events.Where(taken.Contains);
            ExecutePerRow(s_eventSql ??= EventSql(events), events, cancellationToken);
            var announce = Enumerable.Range(0, rows.Notifications.Count).Any(r => rows.LeftToClaim[r] && taken.Contains(rows.NotifiedBy[r]));
            await InsertNotificationsAsync(scope, rows.Notifications.Where(r => taken.Contains(rows.NotifiedBy[r])), announce, cancellationToken);
        }
        return taken;
    }

    // An event goes in with its entity's sequence number, the entity written before it in the
    // transaction. The text depends only on the events' columns.
    private static string? s_eventSql;

    private static string EventSql(RowSet events) =>
        $"INSERT INTO events ({events.Columns}, entity_seq) VALUES ({ValueList(events)}, " +
        $"(SELECT seq FROM entities WHERE kind = {Parameter(events.IndexOf("entity_kind"))} AND id = {Parameter(events.IndexOf("entity_id"))}))";

    private static readonly string UpdateSql = UpdateEntitySql(c => Parameter(c - 1));

    private static readonly string MoveSql =
        $"UPDATE notifications SET {MoveAssignments(c => Parameter(c - 1))} WHERE id = @c0 AND lease_token = @c1";

    protected override async Task<IReadOnlyCollection<string>> RecordAttemptsAsync(WriteScope scope, RowSet moves, RowSet attempts, CancellationToken cancellationToken)
    {
        var moved = Changed(ExecutePerRow(MoveSql, moves, cancellationToken)).ToHashSet();
        await InsertRowsAsync(scope, "attempts", attempts.Where(moved.Contains), cancellationToken);
        return moved.Select(r => (string)moves.Rows[r][0]!).ToList();
    }

    protected override Task<(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)?> TakeDueAsync(
        WriteScope scope, long now, long leaseUntil, string token, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var statement = Prepared(PreparedClaim);
        Bind(statement, [now, leaseUntil, token, limit]);
        var columns = statement.Columns;
        var rows = new List<object?[]>();
        try
        {
            // The update is made at the first step; the rows it changed are then read one at a time.
            int rc;
            while ((rc = SqliteNative.sqlite3_step(statement.Raw)) == raw.SQLITE_ROW)
            {
                var row = new object?[columns.Length];
                for (var c = 0; c < row.Length; c++)
                {
                    row[c] = Column(statement.Raw, c);
                }
                rows.Add(row);
            }
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc, _writer!.Handle!);
            }
        }
        finally
        {
            SqliteNative.sqlite3_reset(statement.Raw);
        }
        return Task.FromResult<(IReadOnlyList<string>, IReadOnlyList<object?[]>)?>((columns, rows));
    }

    /// <summary>A column of the statement's current row: null, a 64-bit integer or text.</summary>
    private static unsafe object? Column(nint statement, int column) => SqliteNative.sqlite3_column_type(statement, column) switch
    {
        raw.SQLITE_NULL => null,
        raw.SQLITE_INTEGER => SqliteNative.sqlite3_column_int64(statement, column),
        _ => Encoding.UTF8.GetString(SqliteNative.sqlite3_column_text(statement, column), SqliteNative.sqlite3_column_bytes(statement, column)),
    };

    /// <summary>The rows (of <see cref="ExecutePerRow"/>'s answer) whose statement changed a row.</summary>
    private static IEnumerable<int> Changed(int[] changedPerRow) => Enumerable.Range(0, changedPerRow.Length).Where(r => changedPerRow[r] == 1);

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
