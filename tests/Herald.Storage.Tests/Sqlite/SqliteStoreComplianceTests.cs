using DbUp;
using Herald.Storage.Abstractions;
using Herald.Storage.Sqlite;
using Herald.Storage.Tests.Compliance;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Tests.Sqlite;

public sealed class SqliteStoreComplianceTests : StoreComplianceTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "herald-store-" + Guid.NewGuid().ToString("N"));
    private SqliteStore? _store;

    protected override async Task<IHeraldStore> CreateStoreAsync()
    {
        _store = new SqliteStore(new SqliteStoreOptions { DataDirectory = _folder });
        Assert.Equal(["0001_initial.sql", "0002_attempts_started.sql", "0003_endpoint_health.sql", "0004_leases.sql", "0005_parked.sql", "0006_entity_lookups.sql", "0007_events_without_version_key.sql", "0008_entity_sequence.sql"], await _store.MigrateAsync());
        return _store;
    }

    protected override Task DestroyStoreAsync()
    {
        _store?.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Database_IsInWalMode()
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder, "herald.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task ADatabaseOfTheEarlierSchema_StillFindsEachEntitysEvents_AfterTheUpgrade()
    {
        var folder = Path.Combine(Path.GetTempPath(), "herald-upgrade-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "herald.db");
            // The database as the release before entity sequence numbers left it.
            var earlier = DeployChanges.To.SqliteDatabase($"Data Source={path}")
                .WithScriptsEmbeddedInAssembly(typeof(SqliteStore).Assembly, name => string.CompareOrdinal(name, "Herald.Storage.Sqlite.Schema.0008") < 0)
                .LogToNowhere()
                .Build();
            Assert.True(earlier.PerformUpgrade().Successful);
            await using (var connection = new SqliteConnection($"Data Source={path}"))
            {
                await connection.OpenAsync();
                await using var rows = connection.CreateCommand();
                rows.CommandText = EarlierRows;
                await rows.ExecuteNonQueryAsync();
            }
            SqliteConnection.ClearAllPools();

            using var upgraded = new SqliteStore(new SqliteStoreOptions { DataDirectory = folder });
            Assert.Equal(["0008_entity_sequence.sql"], await upgraded.MigrateAsync());
            await AssertEarlierRowsFoundAsync(upgraded);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }
}
