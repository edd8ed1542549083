using System.Data.Common;
using Dapper;
using DbUp;
using DbUp.Engine.Output;
using Herald.Storage.Abstractions;
using Herald.Storage.Relational;
using Npgsql;

namespace Herald.Storage.Postgres;

/// <summary>
/// The scale-out store: several Herald nodes share one PostgreSQL database. Claims skip rows
/// another node holds locked, and every recorded change wakes the other nodes through
/// <c>NOTIFY</c>.
/// </summary>
public sealed partial class PostgresStore : RelationalStore, IAsyncDisposable
{
    /// <summary>The channel a recorded change is announced on.</summary>
    public const string WakeChannel = "herald_work";

    /// <summary>The channel an endpoint write is announced on: each node drops the endpoints it keeps in memory.</summary>
    public const string EndpointsChannel = "herald_endpoints";

    /// <summary>The channel a replaced admin key is announced on: each node reads the key again.</summary>
    public const string AdminKeyChannel = "herald_admin_key";

    /// <summary>Raised (on the listener's thread) when another node, or this one, has replaced the admin key.</summary>
    public event Action? AdminKeyReplaced;

    /// <summary>A replaced admin key was announced (see <see cref="AdminKeyChannel"/>).</summary>
    public void AdminKeyReplacedElsewhere() => AdminKeyReplaced?.Invoke();

    // The claim must walk the due index from its front whatever the planner's statistics say (a
    // young or busy table has none worth trusting). So the endpoint is consulted per candidate row
    // in a scalar subquery, which the planner cannot turn into a join or an index condition: the
    // only indexable conditions left are the due index's own.
    private const string Claim = $"""
        UPDATE notifications SET leased_until = @lease_until, lease_token = @token
        WHERE id IN (
          SELECT n.id FROM notifications n
          WHERE n.status = 'pending' AND n.next_attempt_at <= @now
            AND (n.leased_until IS NULL OR n.leased_until <= @now)
            AND (SELECT e.enabled AND (NOT e.ordered OR NOT EXISTS (
                   SELECT 1 FROM events ev JOIN notifications p ON p.event_id = ev.id
                   WHERE ev.merchant_id = n.merchant_id AND ev.entity_id = n.entity_id AND p.endpoint_id = n.endpoint_id
                     AND p.status = 'pending' AND p.entity_version < n.entity_version))
                 FROM endpoints e WHERE e.id = n.endpoint_id)
          ORDER BY n.next_attempt_at
          LIMIT @limit
          FOR UPDATE OF n SKIP LOCKED)
        RETURNING {ClaimReturning}
        """;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresStore(string connectionString)
        : this(CreateDataSource(connectionString), connectionString)
    {
    }

    /// <summary>
    /// The node's data source. Unless the connection string says otherwise, statements used again
    /// and again are prepared on the server (Npgsql's automatic preparation), sparing it the
    /// parsing and planning of every claim, insert and lookup; and a connection handed back to the
    /// pool is not reset (Herald leaves no session state behind: its settings are transaction-local),
    /// sparing a round trip every time.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        // Npgsql takes each keyword with or without its spaces; a value given either way stands.
        bool Given(string keyword) => given.ContainsKey(keyword) || given.ContainsKey(keyword.Replace(" ", "", StringComparison.Ordinal));
        if (!Given("Max Auto Prepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }
        if (!Given("No Reset On Close"))
        {
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }
        return builder.Build();
    }

    /// <summary>A store over a data source the node shares (with its key ring); the store disposes it.</summary>
    public PostgresStore(NpgsqlDataSource dataSource, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ConnectionString = connectionString;
        _dataSource = dataSource;
    }

    /// <summary>
    /// How a transaction writing the hot path's batches plans, in one statement setting each for
    /// the transaction only: each batch statement joins arrays of a few dozen rows to its tables by
    /// key, and its plan is made once per connection and kept (the plan does not depend on the
    /// arrays' contents: left to choose, the server planned it afresh for every batch, a quarter of
    /// its time on the statement). A plan made while the tables were young, or before their
    /// statistics caught up with a burst, read the whole table for every batch (a hash join over a
    /// sequential scan) and kept doing so as the table grew: a run of 150,000 changes delivered
    /// 2,839/s instead of 6,421/s. So those transactions look rows up by key whatever the statistics
    /// say. One statement, not a <c>SET LOCAL</c> each: every statement of a batch is a message the
    /// server parses and answers.
    /// </summary>
    private const string BatchPlanning =
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true), " +
        "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)";

    public string ConnectionString { get; }

    // A batch is one round trip (more when a change needs a statement of its own): while one
    // transaction is in flight the node prepares the next, and the server works on several at once
    // (a backend each). Three in flight keep the server's backends and the node busier than two:
    // alternating runs of 100,000 changes gave 7,804, 8,807, 6,219, 7,120 and 6,766/s with three
    // against 7,457, 7,498, 5,858, 6,026 and 6,288/s with two (about +11 %, the machine 9-14 % idle
    // instead of 15-16 %); four were no better than two (5,479, 5,057 and 7,555/s) and one fell
    // behind (6,050 and 5,636/s, every batch waiting for the one before).
    public override int WriteConcurrency => 3;

    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>
    /// Keeps the admin key's hash for every node sharing the database: replacing the one kept, or
    /// (when <paramref name="replace"/> is false) only where none is. Answers the hash kept.
    /// </summary>
    public async Task<string> KeepAdminKeyHashAsync(string keyHash, bool replace, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // A replacement is announced to the running nodes, which read the key again at once; it is
        // sent when the write commits.
        var conflict = replace ? $"DO UPDATE SET key_hash = excluded.key_hash, updated_at = excluded.updated_at; NOTIFY {AdminKeyChannel}" : "DO NOTHING";
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO admin_key (id, key_hash, updated_at) VALUES (1, @keyHash, @now) ON CONFLICT (id) {conflict}",
            new { keyHash, now = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        // A statement of its own, so that it sees a key another node kept meanwhile.
        return await connection.QuerySingleAsync<string>(new CommandDefinition(
            ReadAdminKeyHash, cancellationToken: cancellationToken));
    }

    private const string ReadAdminKeyHash = "SELECT key_hash FROM admin_key WHERE id = 1";

    /// <summary>The admin key's hash every node accepts; null before any node kept one.</summary>
    public async Task<string?> ReadAdminKeyHashAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            ReadAdminKeyHash, cancellationToken: cancellationToken));
    }

    protected override string ClaimSql => Claim;

    /// <summary>
    /// The advisory lock (<c>pg_advisory_lock</c>) a node holds while it migrates the database
    /// ("herald" in ASCII): nodes started together take turns, and whoever holds it keeps every
    /// node from migrating meanwhile.
    /// </summary>
    public const long MigrationLock = 0x68_65_72_61_6C_64;

    /// <summary>Called once before <see cref="MigrateAsync"/> waits for the <see cref="MigrationLock"/>, held by another session.</summary>
    public Action? MigrationWaits { get; set; }

    public override async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        // Nodes started together migrate one at a time: each holds the database's migration lock
        // (a session lock, on a connection of its own, so that it goes with the session however
        // this ends) while it migrates, and the next finds the scripts applied. Opening it also
        // fails with the driver's own message when the server is away, before DbUp wraps it.
        await using var guard = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await guard.OpenAsync(cancellationToken);
        if (!await guard.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@key)", new { key = MigrationLock }, cancellationToken: cancellationToken)))
        {
            // Another node migrating (a long script holds its table for minutes), or a session
            // holding the lock on purpose: said before waiting, which otherwise looked like a hang.
            MigrationWaits?.Invoke();
            await guard.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = MigrationLock }, cancellationToken: cancellationToken));
        }
        var upgrader = DeployChanges.To.PostgresqlDatabase(ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(PostgresStore).Assembly)
            .WithTransactionPerScript()
            // No time limit of a statement's: a script that reads a large table (an index made
            // again) runs as long as the table takes, where the connection's 30 s stopped it and
            // left the node unable to start.
            .WithExecutionTimeout(TimeSpan.Zero)
            .LogTo(new NoOpUpgradeLog())
            .Build();
        RefuseNewerSchema(upgrader.GetExecutedButNotDiscoveredScripts());
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
        return result.Scripts.Select(s => MigrationName(s.Name)).ToList();
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: true, batch: false, cancellationToken);

    protected override ValueTask<WriteScope> BeginLeaseWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: false, batch: false, cancellationToken);

    protected override ValueTask<WriteScope> BeginBatchWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: true, batch: true, cancellationToken);

    private static readonly Func<WriteScope, CancellationToken, ValueTask<bool>> NothingTold = static (_, _) => ValueTask.FromResult(false);

    /// <summary>Whether the scope's transaction changed a row: it was given a transaction id only if it did (or locked one).</summary>
    private static async ValueTask<bool> WroteSomethingAsync(WriteScope scope, CancellationToken cancellationToken) =>
        await scope.Connection.ExecuteScalarAsync<bool>(scope.Command("SELECT pg_current_xact_id_if_assigned() IS NOT NULL", null, cancellationToken));

    // A full disk: the readiness check's small update may pass while a change's inserts fail.
    protected override bool WriteCheckTells(DatabaseTrouble trouble) => trouble != DatabaseTrouble.DiskFull;

    private async ValueTask<WriteScope> BeginWriteAsync(bool durable, bool batch, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (batch)
            {
                await connection.ExecuteAsync(new CommandDefinition(BatchPlanning, transaction: transaction, cancellationToken: cancellationToken));
            }
            if (!durable)
            {
                // A lease need not wait for the server's WAL flush; its loss only frees the work again.
                // And a claim walks the due index in its order and stops at its limit: a bitmap scan
                // and a sort would read every due row first, however long the backlog.
                await connection.ExecuteAsync(new CommandDefinition(
                    "SET LOCAL synchronous_commit = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off",
                    transaction: transaction, cancellationToken: cancellationToken));
            }
            // A lease's commit tells nothing of a trouble a write met: it may have found no work.
            return new WriteScope(this, connection, transaction, wrote: durable ? WroteSomethingAsync : NothingTold);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // The batch's rows are locked as they are chosen: an attempt being recorded for one of them
    // waits, then finds it gone and writes nothing.
    protected override string LockedForPurge => " FOR UPDATE";

    // A merchant's erasure deletes its notifications in batches that take the purge's lock and hold
    // their rows first, as the purge does, then its last transaction locks its tables (SHARE ROW
    // EXCLUSIVE, see below) and deletes what is left; a purge taking its tables first, in the same
    // order, waits for that, or it for the purge, never both for each other.
    protected override string? PurgeTableLocks(string first, string second) => $"LOCK TABLE {first}, {second} IN ROW EXCLUSIVE MODE";

    // A stats read keeping an hour (counted before, outside any transaction) takes the kept tables
    // as any writer does (ROW EXCLUSIVE, which never waits for the hot path nor another read
    // keeping an hour), before it checks the merchant's epoch; an erasure and a purge take them
    // exclusively of that (SHARE ROW EXCLUSIVE), so each waits for a keeping under way and then
    // deletes what it kept, or goes first, and the keeping sees the epoch it moved on and writes
    // nothing. A read takes nothing else a purge or an erasure waits for, so none waits for the
    // other in a circle.
    protected override string KeptHoursLock => "LOCK TABLE attempt_hours, attempt_hour_durations IN ROW EXCLUSIVE MODE";

    protected override string KeptHoursPurgeLock => "LOCK TABLE attempt_hours, attempt_hour_durations IN SHARE ROW EXCLUSIVE MODE";

    protected override string SkipLockedForClaim => " FOR UPDATE SKIP LOCKED";

    // A delete (an UPDATE of the row) waits for it; a row it waited for is read again as committed,
    // and skipped once deleted, the LIMIT taking the next.
    protected override string LockedToJoin => " FOR SHARE";

    /// <summary>
    /// The first key of the advisory locks (<c>pg_advisory_xact_lock(int, int)</c>, a key space
    /// apart from the <see cref="MigrationLock"/>'s) that keep one recover of a merchant's at a time
    /// keeping its resends, on every node ("rsnd" in ASCII); the second is the merchant's id hashed.
    /// </summary>
    public const int ResendsLock = 0x72_73_6E_64;

    // Held until the recover's transaction ends: a recover on another node reads what waits only
    // once this one's resends are committed, and leaves them out.
    protected override string? LockMerchantResendsSql => $"SELECT pg_advisory_xact_lock({ResendsLock}, hashtext(@merchantId))";

    protected override string? LockEndpointsToUnparkSql => $"""
        SELECT e.id FROM endpoints e
        WHERE e.enabled = TRUE AND e.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM notifications p WHERE p.endpoint_id = e.id AND {ParkedOf("p")})
        ORDER BY e.id FOR SHARE
        """;

    /// <summary>
    /// A parked notification, in the words of <c>notifications_parked</c>'s own condition (0028):
    /// "pending" said as a range of one, which the due index's condition (<c>status = 'pending'</c>)
    /// cannot be proved from. Said as an equality, the planner could take the due index instead,
    /// whose parked part holds every disabled endpoint's backlog, and read all of it for each
    /// enabled endpoint (taking "pending" and "no time to be tried" for independent, it expects many
    /// to match); or walk the whole table, as it did every second at 1.5 million notifications, 1–4 s
    /// a look.
    /// </summary>
    private static string ParkedOf(string alias) => $"{PendingOf(alias)} AND {alias}.next_attempt_at IS NULL";

    /// <summary>A pending notification, "pending" said as a range of one so that the due index cannot serve it (see <see cref="ParkedOf"/>).</summary>
    private static string PendingOf(string alias) => $"{alias}.status >= 'pending' AND {alias}.status <= 'pending'";

    // Each enabled endpoint looked up in the parked index, the limit inside keeping it a look-up.
    protected override string UnparkableSql => $"""
        SELECT n.id FROM endpoints e
        CROSS JOIN LATERAL (
            SELECT p.id, p.endpoint_id FROM notifications p
            WHERE p.endpoint_id = e.id AND {ParkedOf("p")}
            LIMIT @limit) n
        WHERE e.enabled = TRUE AND e.deleted_at IS NULL
        """;

    // The merchant's attempts in a window in the order chosen for the read (see RelationalStore's
    // stats): each side's rows looked up in the other's index, one by one, OFFSET 0 keeping the
    // inner side a look-up the planner cannot turn into a join of its own choosing. Left to itself,
    // it hashed the window's attempts against a walk of the whole notifications table, every
    // merchant's (3.6–5.4 s a day counted at 1.5 million notifications, a merchant of 17,000
    // paying as much as the largest).
    protected override (string MerchantFirst, string WindowFirst)? MerchantAttemptsInOrder => (
        """
        FROM notifications n CROSS JOIN LATERAL (
            SELECT * FROM attempts a WHERE a.notification_id = n.id AND a.started_at >= @since AND a.started_at < @until OFFSET 0) a
        WHERE n.merchant_id = @merchantId
        """,
        """
        FROM attempts a CROSS JOIN LATERAL (
            SELECT * FROM notifications n WHERE n.id = a.notification_id AND n.merchant_id = @merchantId OFFSET 0) n
        WHERE a.started_at >= @since AND a.started_at < @until
        """);

    // Each recently deleted endpoint looked up in the endpoint index (endpoint_id, status): "pending"
    // as a range again, so that the due index (every endpoint's pending work) is not read instead,
    // 0.3–1 s a second at 160,000 pending.
    protected override string OrphanedSql => $"""
        SELECT n.id FROM endpoints e
        CROSS JOIN LATERAL (
            SELECT p.id FROM notifications p
            WHERE p.endpoint_id = e.id AND {PendingOf("p")}
              AND (p.leased_until IS NULL OR p.leased_until <= @now OR e.deleted_at < @settled)
            LIMIT @limit) n
        WHERE e.deleted_at >= @since
        """;

    // The deleted notifications' ids stay on the server, in a table gone at commit. The delete waits
    // for any transaction recording an attempt of one of them; the next statement, seeing what has
    // committed by then, takes those attempts too.
    // First the erase waits for every write in flight to end and holds new ones back until it
    // commits (readers go on): a change of the merchant committed while the erase ran would
    // otherwise keep its notification, payload and all, and lose its event and entity.
    // No index holds a merchant's events by id (one would cost every change's insert): the batches
    // walk events_merchant_entity, by entity, instead. In the last transaction, every writer waiting
    // for it, a merchant's 543,000 events took 5.5 s to delete.
    protected override string EraseEventsBy => "entity_id";

    protected override string? EraseTableLocks =>
        "LOCK TABLE entities, events, notifications, attempts, idempotency_keys, attempt_hours, attempt_hour_durations IN SHARE ROW EXCLUSIVE MODE";

    protected override IReadOnlyList<string> EraseNotificationsSql(string range) =>
    [
        "CREATE TEMP TABLE erased_notifications (id TEXT) ON COMMIT DROP",
        $"WITH gone AS (DELETE FROM notifications WHERE merchant_id = @merchantId{range} RETURNING id) INSERT INTO erased_notifications SELECT id FROM gone",
        "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM erased_notifications)",
    ];

    // Writers on several connections (and nodes) can wait on each other's row locks in a cycle; the
    // server then undoes one of their transactions. Serialization failures are named too, should a
    // transaction ever run at a stricter isolation level.
    protected override bool IsWriteRaceLost(DbException error) =>
        error is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };

    /// <summary>
    /// Whether the database answers and takes writes: one that answers read-only (a standby a
    /// failover left the nodes on, <c>default_transaction_read_only</c>) refuses every change and
    /// every attempt's outcome, and a node on it is not ready.
    /// </summary>
    protected override async Task<DatabaseTrouble?> ProbeAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT current_setting('transaction_read_only')", cancellationToken: cancellationToken)) == "off"
            ? null
            : DatabaseTrouble.ReadOnly;

    protected override DatabaseTrouble? TroubleOf(DbException failure) => failure switch
    {
        // Reached, but every connection the server allows is taken (by nodes' pools, say): not a
        // network fault, and not one that waiting out alone will mend.
        PostgresException { SqlState: PostgresErrorCodes.TooManyConnections } => DatabaseTrouble.OutOfConnections,
        PostgresException { SqlState: PostgresErrorCodes.DiskFull } => DatabaseTrouble.DiskFull,
        PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } => DatabaseTrouble.ReadOnly,
        // A deadlock the server broke by undoing this side, met again on the write's every try: the
        // server is there and answering (the driver calls it transient, as it does a lost connection).
        PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure } => DatabaseTrouble.Contended,
        // Shutting down or restarting (57P), or the connection lost (08).
        PostgresException { SqlState: var state } when state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal) => DatabaseTrouble.Unreachable,
        // The driver's own (refused, timed out, the stream broken), and the server's that pass with time.
        NpgsqlException { IsTransient: true } => DatabaseTrouble.Unreachable,
        _ => null,
    };

    // NOTIFY inside the transaction is delivered when it commits, and never if it rolls back.
    protected override Task OnWorkRecordedAsync(WriteScope scope, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command($"NOTIFY {WakeChannel}", null, cancellationToken));

    protected override Task OnEndpointsWrittenAsync(WriteScope scope, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command($"NOTIFY {EndpointsChannel}", null, cancellationToken));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
