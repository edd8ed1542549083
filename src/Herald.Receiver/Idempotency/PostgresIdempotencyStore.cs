using System.Data.Common;
using Npgsql;

namespace Herald.Receiver.Idempotency;

/// <summary>Handled ids in a PostgreSQL table, shared by every instance of the app.</summary>
/// <param name="dataSource">The app's data source.</param>
public sealed class PostgresIdempotencyStore(NpgsqlDataSource dataSource) : SqlIdempotencyStore
{
    /// <inheritdoc />
    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
}
