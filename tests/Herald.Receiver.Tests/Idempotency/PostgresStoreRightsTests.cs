using System.Data.Common;
using Herald.Receiver.Idempotency;
using Npgsql;

namespace Herald.Receiver.Tests.Idempotency;

/// <summary>
/// The store under an app's own database role, which may have no right to create tables: PostgreSQL
/// 15 and later grant none in the public schema to roles that do not own it.
/// </summary>
public sealed class PostgresStoreRightsTests
{
    [Fact]
    public async Task TableMadeBeforehandWithTheKitsStatement_ARoleThatMayNotCreateTables_ClaimsAndCompletes()
    {
        await using var db = await Herald.Server.Tests.Infrastructure.PostgresDatabase.CreateAsync();
        // The statement the kit publishes (and docs/receiver.md shows) for the database's owner to run.
        await using var role = await AppRole.CreateAsync(db.ConnectionString, SqlIdempotencyStore.TableSql, "GRANT SELECT, INSERT, UPDATE, DELETE ON herald_webhook_ids TO {role}");
        await using var source = NpgsqlDataSource.Create(role.ConnectionString);
        var store = new PostgresIdempotencyStore(source);
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(ClaimResult.Claimed, await store.TryClaimAsync("evt_1", now, now.AddMinutes(5), default));
        await store.CompleteAsync("evt_1", now, default);
        Assert.Equal(ClaimResult.AlreadyHandled, await store.TryClaimAsync("evt_1", now, now.AddMinutes(5), default));
    }

    [Fact]
    public async Task NoTableAndNoRightToMakeIt_EveryClaimSaysSo_NoConnectionIsKeptFromThePool()
    {
        await using var db = await Herald.Server.Tests.Infrastructure.PostgresDatabase.CreateAsync();
        await using var role = await AppRole.CreateAsync(db.ConnectionString);
        // A pool of two that gives up after a second: a connection kept by a failed claim would
        // leave the later claims waiting for one, and failing on that rather than on the right.
        var builder = new NpgsqlConnectionStringBuilder(role.ConnectionString) { MaxPoolSize = 2, Timeout = 1 };
        await using var source = NpgsqlDataSource.Create(builder.ConnectionString);
        var store = new PostgresIdempotencyStore(source);
        var now = DateTimeOffset.UtcNow;

        for (var i = 0; i < 4; i++)
        {
            var failure = await Assert.ThrowsAsync<PostgresException>(() => store.TryClaimAsync($"evt_{i}", now, now.AddMinutes(5), default));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, failure.SqlState);
        }
    }

    /// <summary>A login role of the test's own in a database whose public schema lets no one else create tables.</summary>
    private sealed class AppRole : IAsyncDisposable
    {
        private readonly string _admin;
        private readonly string _name;

        private AppRole(string admin, string name)
        {
            _admin = admin;
            _name = name;
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Username = name }.ConnectionString;
        }

        public string ConnectionString { get; }

        public static async Task<AppRole> CreateAsync(string admin, params string[] setup)
        {
            var name = "app_" + Guid.NewGuid().ToString("N");
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            foreach (var sql in new[] { $"CREATE ROLE {name} LOGIN", "REVOKE CREATE ON SCHEMA public FROM PUBLIC" }.Concat(setup))
            {
                await using var command = new NpgsqlCommand(sql.Replace("{role}", name, StringComparison.Ordinal), connection);
                await command.ExecuteNonQueryAsync();
            }
            return new AppRole(admin, name);
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP OWNED BY {_name}; DROP ROLE {_name}", connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
