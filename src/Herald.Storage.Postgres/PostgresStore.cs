using System.Data.Common;
using Dapper;
using DbUp;
using DbUp.Engine.Output;
using Herald.Storage.Relational;
using Npgsql;

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

    private const string Claim = $"""
        UPDATE notifications SET next_attempt_at = @lease_until, lease_token = @token
        WHERE id IN (
          SELECT n.id FROM notifications n JOIN endpoints e ON e.id = n.endpoint_id
          WHERE n.status = 'pending' AND n.next_attempt_at <= @now AND e.enabled
            AND {OrderedGate}
          ORDER BY n.next_attempt_at
          LIMIT @limit
          FOR UPDATE OF n SKIP LOCKED)
        RETURNING {ClaimReturning}
        """;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresStore(string connectionString)
        : this(NpgsqlDataSource.Create(connectionString), connectionString)
    {
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

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async ValueTask<WriteScope> BeginWriteAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
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

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
