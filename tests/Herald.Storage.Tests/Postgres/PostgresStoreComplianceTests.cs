using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Herald.Storage.Tests.Compliance;
using Npgsql;

namespace Herald.Storage.Tests.Postgres;

/// <summary>The same suite on a fresh database of the cluster ./test.sh starts; never skipped.</summary>
public sealed class PostgresStoreComplianceTests : StoreComplianceTests
{
    private readonly string _name = "herald_store_" + Guid.NewGuid().ToString("N");
    private string _admin = "";
    private PostgresStore? _store;

    protected override async Task<IHeraldStore> CreateStoreAsync()
    {
        _admin = Environment.GetEnvironmentVariable("HERALD_TEST_POSTGRES") ?? "";
        Assert.False(_admin.Length == 0, "HERALD_TEST_POSTGRES is not set: run the suite with ./test.sh, which starts a PostgreSQL cluster");
        await ExecuteAsync($"CREATE DATABASE {_name}");
        _store = new PostgresStore(new NpgsqlConnectionStringBuilder(_admin) { Database = _name }.ConnectionString);
        Assert.Equal(["0001_initial.sql", "0002_data_protection_keys.sql", "0003_attempts_started.sql", "0004_endpoint_health.sql", "0005_queue_vacuum.sql", "0006_leases.sql", "0007_parked.sql", "0008_hot_path_keys.sql", "0009_entity_lookups.sql"], await _store.MigrateAsync());
        return _store;
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
            await ExecuteAsync($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
