using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using DbUp;
using DbUp.Engine.Output;
using Herald.Storage.Relational;
using Npgsql;
using NpgsqlTypes;

namespace Herald.Storage.Postgres;

/// <summary>
/// The scale-out store: several Herald nodes share one PostgreSQL database. Claims skip rows
/// another node holds locked, and every recorded change wakes the other nodes through
/// <c>NOTIFY</c>.
/// </summary>
public sealed class PostgresStore : RelationalStore, IAsyncDisposable
{
    /// <summary>The channel a recorded change is announced on.</summary>
    public const string WakeChannel = "herald_work";

    /// <summary>The channel an endpoint write is announced on: each node drops the endpoints it keeps in memory.</summary>
    public const string EndpointsChannel = "herald_endpoints";

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

    public string ConnectionString { get; }

    // Each statement is a round trip; a few transactions in flight keep the server busy meanwhile.
    public override int WriteConcurrency => 4;

    public NpgsqlDataSource DataSource => _dataSource;

    protected override string ClaimSql => Claim;

    public override async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        // Fail with the driver's own message when the server is away, before DbUp wraps it.
        await using (var probe = await _dataSource.OpenConnectionAsync(cancellationToken))
        {
        }
        var upgrader = DeployChanges.To.PostgresqlDatabase(ConnectionString)
            .WithScriptsEmbeddedInAssembly(typeof(PostgresStore).Assembly)
            .WithTransactionPerScript()
            .LogTo(new NoOpUpgradeLog())
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
        }
        const string prefix = "Herald.Storage.Postgres.Schema.";
        return result.Scripts.Select(s => s.Name.StartsWith(prefix, StringComparison.Ordinal) ? s.Name[prefix.Length..] : s.Name).ToList();
    }

    // The hot path's rows go in as one array per column, unnested on the server: one statement text
    // per table whatever the number of rows, so it is parsed and planned once per connection
    // (automatic preparation) instead of once per batch, and its parameters stay a handful.
    protected override async Task InsertRowsAsync(WriteScope scope, string table, RowSet rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using var command = Unnested(scope, $"INSERT INTO {table} ({rows.Columns}) SELECT * FROM {Unnest(rows)}", rows);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task<IReadOnlyCollection<int>> InsertNewEntitiesAsync(WriteScope scope, RowSet rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return [];
        }
        var index = new Dictionary<(string, string), int>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            index[((string)rows.Rows[i][0]!, (string)rows.Rows[i][1]!)] = i;
        }
        await using var command = Unnested(scope, $"INSERT INTO entities ({rows.Columns}) SELECT * FROM {Unnest(rows)} ON CONFLICT DO NOTHING RETURNING kind, id", rows);
        var written = new List<int>(rows.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            written.Add(index[(reader.GetString(0), reader.GetString(1))]);
        }
        return written;
    }

    protected override async Task<IReadOnlyCollection<string>> MoveNotificationsAsync(WriteScope scope, RowSet moves, CancellationToken cancellationToken)
    {
        if (moves.Count == 0)
        {
            return [];
        }
        var names = string.Join(", ", Enumerable.Range(1, moves.ColumnTypes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"c{c}")));
        await using var command = Unnested(scope, $"""
            UPDATE notifications SET {MoveAssignments(c => string.Create(CultureInfo.InvariantCulture, $"v.c{c}"))}
            FROM {Unnest(moves)} AS v({names})
            WHERE notifications.id = v.c1 AND notifications.lease_token = v.c2
            RETURNING notifications.id
            """, moves);
        var moved = new List<string>(moves.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            moved.Add(reader.GetString(0));
        }
        return moved;
    }

    private static string Unnest(RowSet rows) =>
        $"unnest({string.Join(", ", Enumerable.Range(0, rows.ColumnTypes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"@a{c}")))})";

    /// <summary>A command on the scope's transaction with one array parameter per column of <paramref name="rows"/>, named <c>a0</c>, <c>a1</c>, …</summary>
    private static NpgsqlCommand Unnested(WriteScope scope, string sql, RowSet rows)
    {
        var command = new NpgsqlCommand(sql, (NpgsqlConnection)scope.Connection, (NpgsqlTransaction)scope.Transaction);
        for (var c = 0; c < rows.ColumnTypes.Count; c++)
        {
            var column = c;
            var name = string.Create(CultureInfo.InvariantCulture, $"a{c}");
            command.Parameters.Add(rows.ColumnTypes[c].Type switch
            {
                DbType.String => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Rows.Select(r => (string?)r[column]).ToArray() },
                DbType.Int64 => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                {
                    Value = rows.Rows.Select(r => r[column] is null ? (long?)null : Convert.ToInt64(r[column], CultureInfo.InvariantCulture)).ToArray(),
                },
                DbType.Int32 => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Integer)
                {
                    Value = rows.Rows.Select(r => r[column] is null ? (int?)null : Convert.ToInt32(r[column], CultureInfo.InvariantCulture)).ToArray(),
                },
                DbType.Boolean => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Boolean) { Value = rows.Rows.Select(r => (bool?)r[column]).ToArray() },
                var other => throw new NotSupportedException($"no array type for {other}"),
            });
        }
        return command;
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: true, cancellationToken);

    protected override ValueTask<WriteScope> BeginLeaseWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(durable: false, cancellationToken);

    private async ValueTask<WriteScope> BeginWriteAsync(bool durable, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (!durable)
            {
                // A lease need not wait for the server's WAL flush; its loss only frees the work again.
                // And a claim walks the due index in its order and stops at its limit: a bitmap scan
                // and a sort would read every due row first, however long the backlog.
                await connection.ExecuteAsync(new CommandDefinition(
                    "SET LOCAL synchronous_commit = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off",
                    transaction: transaction, cancellationToken: cancellationToken));
            }
            return new WriteScope(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // NOTIFY inside the transaction is delivered when it commits, and never if it rolls back.
    protected override Task OnWorkRecordedAsync(WriteScope scope, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command($"NOTIFY {WakeChannel}", null, cancellationToken));

    protected override Task OnEndpointsWrittenAsync(WriteScope scope, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command($"NOTIFY {EndpointsChannel}", null, cancellationToken));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
