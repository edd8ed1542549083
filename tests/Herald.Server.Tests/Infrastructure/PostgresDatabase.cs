using Npgsql;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// A fresh database in the throwaway cluster ./test.sh starts (HERALD_TEST_POSTGRES), dropped
/// afterwards. Without that cluster the test fails: PostgreSQL is never skipped.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _admin;
    private readonly string _name;

    private PostgresDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        _name = name;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable("HERALD_TEST_POSTGRES");
        Assert.False(string.IsNullOrEmpty(admin), "HERALD_TEST_POSTGRES is not set: run the suite with ./test.sh, which starts a PostgreSQL cluster");
        var name = "herald_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new PostgresDatabase(admin!, name, builder.ConnectionString);
    }

    /// <summary>Takes the database away (no new connections, existing ones cut) or gives it back.</summary>
    public async Task SetReachableAsync(bool reachable)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using (var allow = new NpgsqlCommand($"ALTER DATABASE {_name} ALLOW_CONNECTIONS {(reachable ? "true" : "false")}", connection))
        {
            await allow.ExecuteNonQueryAsync();
        }
        if (!reachable)
        {
            await using var cut = new NpgsqlCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_name}'", connection);
            await cut.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Makes the database answer read-only (as a standby does) or takes that back; existing connections are cut, so that the next ones take the setting.</summary>
    public async Task SetReadOnlyAsync(bool readOnly)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand(readOnly ? $"ALTER DATABASE {_name} SET default_transaction_read_only = on" : $"ALTER DATABASE {_name} RESET default_transaction_read_only", connection))
        {
            await set.ExecuteNonQueryAsync();
        }
        await using var cut = new NpgsqlCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_name}'", connection);
        await cut.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A connection string for a role of its own (not a superuser, so that a connection limit holds
    /// for it) that owns the database, and a way to set how many connections that role may have.
    /// </summary>
    public async Task<(string ConnectionString, Func<int, Task> SetConnectionLimit)> OwnRoleAsync()
    {
        var role = "herald_role_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync($"CREATE ROLE {role} LOGIN; ALTER DATABASE {_name} OWNER TO {role}");
        _roles.Add(role);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Username = role };
        return (builder.ConnectionString, async limit =>
        {
            await ExecuteAsync($"ALTER ROLE {role} CONNECTION LIMIT {limit}");
            if (limit == 0)
            {
                await ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'");
            }
        });
    }

    private readonly List<string> _roles = [];

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
        foreach (var role in _roles)
        {
            await using var dropRole = new NpgsqlCommand($"DROP ROLE IF EXISTS {role}", connection);
            await dropRole.ExecuteNonQueryAsync();
        }
    }
}
