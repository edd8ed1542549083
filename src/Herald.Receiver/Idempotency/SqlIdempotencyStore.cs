using System.Data.Common;

namespace Herald.Receiver.Idempotency;

/// <summary>
/// Handled ids in a database table (<c>herald_webhook_ids</c>), shared by every instance of the
/// app and kept across restarts. The SQL is the same on SQLite and PostgreSQL.
/// </summary>
public abstract class SqlIdempotencyStore : IIdempotencyStore
{
    /// <summary>
    /// The statement that makes the store's table, run on first use. A database user that may not
    /// create tables (none but the schema's owner may in PostgreSQL 15's <c>public</c>) needs the
    /// table made beforehand with it, and <c>SELECT, INSERT, UPDATE, DELETE</c> granted on it.
    /// </summary>
    public static string TableSql => Schema;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS herald_webhook_ids (
          id            TEXT PRIMARY KEY,
          done          INTEGER NOT NULL,
          claimed_until BIGINT NOT NULL,
          completed_at  BIGINT
        )
        """;

    // Takes a new id, or one whose earlier claim ran out unfinished; never one that is done.
    private const string Claim = """
        INSERT INTO herald_webhook_ids (id, done, claimed_until) VALUES (@id, 0, @until)
        ON CONFLICT (id) DO UPDATE SET claimed_until = @until
        WHERE herald_webhook_ids.done = 0 AND herald_webhook_ids.claimed_until <= @now
        """;

    private readonly SemaphoreSlim _create = new(1, 1);
    private volatile bool _created;
    private long _nextPurgeMs;

    /// <summary>
    /// How long a handled id is remembered. Herald retries for at most 3 days, so the default of
    /// 30 days covers its retries and manual resends for a month; older ids are deleted, at most
    /// once an hour, when an id is claimed, and so are claims that ran out that long ago unfinished.
    /// <see cref="TimeSpan.MaxValue"/> keeps them for good.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero or less: a handled id would be forgotten at once, and a resend handled again.</exception>
    public TimeSpan Keep
    {
        get => _keep;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(Keep));
            _keep = value;
        }
    }

    private readonly TimeSpan _keep = TimeSpan.FromDays(30);

    /// <summary>Opens a connection to the database.</summary>
    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public async Task<ClaimResult> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadyAsync(cancellationToken).ConfigureAwait(false);
        var nowMs = now.ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextPurgeMs);
        if (nowMs >= due && Interlocked.CompareExchange(ref _nextPurgeMs, nowMs + (long)TimeSpan.FromHours(1).TotalMilliseconds, due) == due)
        {
            // A claim whose handler never finished (its process died) is taken again by the next delivery
            // once it ran out, so forgetting it changes nothing but the table's size.
            // A Keep reaching back before 1970 (TimeSpan.MaxValue: for good) deletes nothing.
            var cutoff = Keep < now - DateTimeOffset.UnixEpoch ? (now - Keep).ToUnixTimeMilliseconds() : 0;
            await ExecuteAsync(connection, "DELETE FROM herald_webhook_ids WHERE (done = 1 AND completed_at < @cutoff) OR (done = 0 AND claimed_until < @cutoff)", cancellationToken,
                ("cutoff", cutoff)).ConfigureAwait(false);
        }
        var taken = await ExecuteAsync(connection, Claim, cancellationToken, ("id", id), ("until", until.ToUnixTimeMilliseconds()), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        if (taken == 1)
        {
            return ClaimResult.Claimed;
        }
        await using var command = Command(connection, "SELECT done FROM herald_webhook_ids WHERE id = @id", ("id", id));
        var done = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        return done == 1 ? ClaimResult.AlreadyHandled : ClaimResult.InProgress;
    }

    /// <inheritdoc />
    public async Task CompleteAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadyAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "UPDATE herald_webhook_ids SET done = 1, completed_at = @now WHERE id = @id", cancellationToken,
            ("id", id), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(string id, DateTimeOffset claimedUntil, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadyAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "DELETE FROM herald_webhook_ids WHERE id = @id AND done = 0 AND claimed_until = @until", cancellationToken,
            ("id", id), ("until", claimedUntil.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    private async Task<DbConnection> OpenReadyAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (!_created)
        {
            try
            {
                await _create.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (!_created)
                    {
                        await CreateAsync(connection, cancellationToken).ConfigureAwait(false);
                        _created = true;
                    }
                }
                finally
                {
                    _create.Release();
                }
            }
            catch
            {
                // Given back to the pool: kept, every failed claim would hold one connection until none were left.
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        return connection;
    }

    /// <summary>
    /// Creates the table unless it is there. Several instances of an app (or several stores on one
    /// database) meeting their first notification at once all create it: PostgreSQL lets only one
    /// <c>CREATE TABLE IF NOT EXISTS</c> through and fails the others (a duplicate <c>pg_type</c>
    /// row, or a type that already exists), by which time the winner's table is there, so a loser
    /// finds it rather than failing the notification. PostgreSQL also refuses the statement, table
    /// there or not, to a role that may not create tables in the schema (since PostgreSQL 15 no
    /// role but the schema's owner may in <c>public</c>): a table made beforehand is then used.
    /// </summary>
    private static async Task CreateAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecuteAsync(connection, Schema, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (DbException)
            {
                if (await ExistsAsync(connection, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
                if (attempt >= 3)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>Whether the table is there for this connection's role to use.</summary>
    private static async Task<bool> ExistsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = Command(connection, "SELECT 1 FROM herald_webhook_ids WHERE 1 = 0");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbException)
        {
            return false;
        }
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static DbCommand Command(DbConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
