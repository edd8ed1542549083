using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Tests.Compliance;

namespace Herald.Storage.Tests.Postgres;

/// <summary>The same suite on a fresh database of the cluster ./test.sh starts; never skipped.</summary>
public sealed class PostgresStoreComplianceTests : StoreComplianceTests
{
    private PostgresDatabase? _db;
    private PostgresStore? _store;

    protected override async Task<IHeraldStore> CreateStoreAsync()
    {
        _db = await PostgresDatabase.CreateAsync();
        _store = new PostgresStore(_db.ConnectionString);
        Assert.Equal(["0001_initial.sql", "0002_data_protection_keys.sql", "0003_attempts_started.sql", "0004_endpoint_health.sql", "0005_queue_vacuum.sql", "0006_leases.sql", "0007_parked.sql", "0008_hot_path_keys.sql", "0009_entity_lookups.sql"], await _store.MigrateAsync());
        return _store;
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
