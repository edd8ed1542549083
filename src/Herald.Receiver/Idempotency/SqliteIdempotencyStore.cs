using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Herald.Receiver.Idempotency;

/// <summary>Handled ids in a SQLite database file.</summary>
/// <param name="connectionString">For example <c>Data Source=webhooks.db</c>; a file, not an in-memory database.</param>
public sealed class SqliteIdempotencyStore(string connectionString) : SqlIdempotencyStore
{
    // Each connection to an in-memory database is a database of its own: the ids noted on one
    // would be gone on the next, and the table with them. Said at once, not at the second request.
    private readonly string connectionString = new SqliteConnectionStringBuilder(connectionString) is { } given
        && (given.DataSource is ":memory:" or "" || given.Mode == SqliteOpenMode.Memory)
        ? throw new ArgumentException(
            "the SQLite store of handled ids needs a file (Data Source=webhooks.db): an in-memory database is a new one on every connection; use InMemoryIdempotencyStore in tests",
            nameof(connectionString))
        : connectionString;

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
