using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Herald.Storage.Sqlite;

namespace Herald.Server.Tests.Errors;

/// <summary>
/// How each store tells the database's being unusable now (an API answer of 503, delivery's
/// one-line warning, <c>/readyz</c>) from any other database error (a fault, logged with its stack).
/// </summary>
public sealed class DatabaseTroubleTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "herald-trouble-" + Guid.NewGuid().ToString("N"));
    private PostgresStore _postgres = null!;
    private SqliteStore _sqlite = null!;

    public Task InitializeAsync()
    {
        // Neither store connects before it is asked to: the classification needs no database.
        _postgres = new PostgresStore("Host=127.0.0.1;Port=1;Username=herald;Database=herald");
        _sqlite = new SqliteStore(new SqliteStoreOptions { DataDirectory = _folder });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        _sqlite.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void AServerWithEveryConnectionTaken_IsSaidToHaveNoneLeft_NotToBeUnreachable()
    {
        var full = new Npgsql.PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300");
        var trouble = _postgres.TroubleOf(new InvalidOperationException("wrapped", full));
        Assert.Equal(DatabaseTrouble.OutOfConnections, trouble);
        Assert.Equal("it has no connection left for Herald: max_connections, or a CONNECTION LIMIT of the role or the database, is reached", trouble!.Value.Reason());
        Assert.Equal("out of connections", trouble.Value.Status());
    }

    [Fact]
    public void AServerShuttingDown_IsStillSaidToBeUnreachable()
    {
        var down = new Npgsql.PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");
        Assert.Equal("it cannot be reached", _postgres.TroubleOf(down)!.Value.Reason());
    }

    [Fact]
    public void AServerOutOfDisk_IsSaidToBe()
    {
        var full = new Npgsql.PostgresException("could not extend file", "ERROR", "ERROR", "53100");
        Assert.Equal("its disk is full", _postgres.TroubleOf(full)!.Value.Reason());
    }

    [Fact]
    public void AFileOutOfDiskOrReadOnly_IsSaidToBe_OnSqlite()
    {
        Assert.Equal("its disk is full", _sqlite.TroubleOf(new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13))!.Value.Reason());
        Assert.Equal("it is read-only", _sqlite.TroubleOf(new Microsoft.Data.Sqlite.SqliteException("attempt to write a readonly database", 8))!.Value.Reason());
        Assert.Equal(DatabaseTrouble.FileUnusable, _sqlite.TroubleOf(new Microsoft.Data.Sqlite.SqliteException("disk I/O error", 10)));
    }

    [Fact]
    public void ABrokenConstraint_IsNoTroubleOfTheDatabase_ButAFault()
    {
        // The database answered, and refused what Herald asked: waiting will not mend it, and the
        // log needs its stack.
        Assert.Null(_postgres.TroubleOf(new Npgsql.PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505")));
        Assert.Null(_sqlite.TroubleOf(new Microsoft.Data.Sqlite.SqliteException("UNIQUE constraint failed: notifications.id", 19)));
        Assert.Null(_sqlite.TroubleOf(new InvalidOperationException("no database here")));
    }

    [Fact]
    public void AStoreOfOneKind_DoesNotClaimTheOthersErrors()
    {
        Assert.Null(_sqlite.TroubleOf(new Npgsql.PostgresException("could not extend file", "ERROR", "ERROR", "53100")));
        Assert.Null(_postgres.TroubleOf(new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13)));
    }
}
