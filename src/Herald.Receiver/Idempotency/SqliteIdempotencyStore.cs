using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Herald.Receiver.Idempotency;

/// <summary>Handled ids in a SQLite database file.</summary>
/// <param name="connectionString">For example <c>Data Source=webhooks.db</c>.</param>
public sealed class SqliteIdempotencyStore(string connectionString) : SqlIdempotencyStore
{
    /// <inheritdoc />
    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
