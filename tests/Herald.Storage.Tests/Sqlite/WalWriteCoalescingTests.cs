using Herald.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Tests.Sqlite;

/// <summary>
/// SQLite's log written through Herald's layer: a commit's frames reach the file in a few writes,
/// and nothing any connection can see, or a crash can keep, differs from SQLite writing them itself.
/// </summary>
public sealed class WalWriteCoalescingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "herald-wal-" + Guid.NewGuid().ToString("N"));

    public WalWriteCoalescingTests()
    {
        Directory.CreateDirectory(_folder);
        // The store installs the layer before its first connection; these tests open their own.
        _ = new SqliteStore(new SqliteStoreOptions { DataDirectory = _folder });
    }

    private string Database => Path.Combine(_folder, "wal-test.db");

    private SqliteConnection Open(string pragmas)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; " + pragmas);
        return connection;
    }

    /// <summary>A copy of the database and its log as the files are now, opened: what a crash would leave.</summary>
    private SqliteConnection OpenCopy()
    {
        var copy = Path.Combine(_folder, "copy.db");
        File.Copy(Database, copy);
        File.Copy(Database + "-wal", copy + "-wal");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        command.ExecuteNonQuery();
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    private static string Row(int i) => string.Concat(Enumerable.Repeat($"row {i:D6} ", 300));

    [Fact]
    public void ACommitOfManyPages_ReachesTheLogInAFewWrites()
    {
        Assert.True(WalWriteCoalescing.Installed);
        using var writer = Open("PRAGMA synchronous=FULL;");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");

        var (receivedBefore, writtenBefore) = WalWriteCoalescing.Counts;
        using (var transaction = writer.BeginTransaction())
        {
            for (var i = 0; i < 40; i++)
            {
                Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            }
            transaction.Commit();
        }
        var (received, written) = WalWriteCoalescing.Counts;

        // 40 rows of 3 kB: about 30 pages, each a header and a page written by SQLite (other
        // tests' connections may write meanwhile, so only bounds are asserted).
        Assert.True(received - receivedBefore >= 60, $"SQLite wrote {received - receivedBefore} times");
        Assert.True(written - writtenBefore <= (received - receivedBefore) / 10, $"{written - writtenBefore} writes reached the file for {received - receivedBefore}");
        using var reader = Open("");
        Assert.Equal(40L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        Assert.Equal(Row(39), Scalar<string>(reader, "SELECT body FROM t WHERE id = 39"));
    }

    [Fact]
    public void CommitsWithoutAFlush_AreReadWholeByAnotherConnectionAtOnce()
    {
        // synchronous=NORMAL commits without flushing the log: only the shared index's barrier
        // makes the held frames reach the file before the commit is published.
        using var writer = Open("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;");
        using var reader = Open("");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        for (var i = 0; i < 300; i++)
        {
            Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            Assert.Equal(i + 1L, Scalar<long>(reader, "SELECT count(*) FROM t"));
            Assert.Equal(Row(i), Scalar<string>(reader, $"SELECT body FROM t WHERE id = {i}"));
        }
        Assert.Equal("ok", Scalar<string>(reader, "PRAGMA integrity_check"));
    }

    [Fact]
    public void ATransactionLargerThanTheCache_ReadsBackItsOwnWrites_AndARollbackLeavesNoTrace()
    {
        // A cache of 20 pages spills frames into the log before the commit; the transaction then
        // reads them back from the log.
        using var writer = Open("PRAGMA synchronous=FULL; PRAGMA cache_size=20;");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        using (var transaction = writer.BeginTransaction())
        {
            for (var i = 0; i < 500; i++)
            {
                Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            }
            Assert.Equal(500L, Scalar<long>(writer, "SELECT count(*) FROM t WHERE body = printf('%s', body)"));
            Assert.Equal(Row(7), Scalar<string>(writer, "SELECT body FROM t WHERE id = 7"));
            transaction.Rollback();
        }
        using (var transaction = writer.BeginTransaction())
        {
            for (var i = 0; i < 400; i++)
            {
                Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i + 1000), ("$body", Row(i + 1000)));
            }
            transaction.Commit();
        }

        using var reader = Open("");
        Assert.Equal(400L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        Assert.Equal(0L, Scalar<long>(reader, "SELECT count(*) FROM t WHERE id < 1000"));
        Assert.Equal(Row(1399), Scalar<string>(reader, "SELECT body FROM t WHERE id = 1399"));
        Assert.Equal("ok", Scalar<string>(reader, "PRAGMA integrity_check"));
    }

    [Fact]
    public void ALogCheckpointedAndRestarted_KeepsEveryCommit()
    {
        // Checkpoints copy the log back and the log starts over from its beginning, its header
        // rewritten in the same held write as the next commit's frames.
        using var writer = Open("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=50; PRAGMA journal_size_limit=0;");
        using var reader = Open("");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        for (var i = 0; i < 400; i++)
        {
            Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            if (i % 50 == 0)
            {
                Execute(writer, "PRAGMA wal_checkpoint(TRUNCATE)");
            }
        }
        Assert.Equal(400L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        writer.Close();
        reader.Close();

        // A fresh connection, after every other closed: what the file holds is all there is.
        using var again = Open("");
        Assert.Equal(400L, Scalar<long>(again, "SELECT count(*) FROM t"));
        Assert.Equal(Row(399), Scalar<string>(again, "SELECT body FROM t WHERE id = 399"));
        Assert.Equal("ok", Scalar<string>(again, "PRAGMA integrity_check"));
    }

    [Fact]
    public void TheLogOnDisk_HoldsEveryCommit_WhileItsConnectionsAreStillOpen()
    {
        // A copy of the database and its log taken with the connections open is what a crash
        // leaves: SQLite rebuilds its index from the log's frames alone. The commits include a
        // transaction that spilled frames and then changed those pages again (frames rewritten
        // in place, their checksums mended at commit), under synchronous=NORMAL (no flush).
        using var writer = Open("PRAGMA synchronous=NORMAL; PRAGMA cache_size=20; PRAGMA wal_autocheckpoint=0;");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        for (var i = 0; i < 50; i++)
        {
            Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
        }
        using (var transaction = writer.BeginTransaction())
        {
            for (var i = 50; i < 450; i++)
            {
                Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            }
            Execute(writer, "UPDATE t SET body = body || '!' WHERE id >= 50");
            transaction.Commit();
        }
        Execute(writer, "INSERT INTO t (id, body) VALUES (1000, 'last')");
        using var reader = Open("");
        Assert.Equal(451L, Scalar<long>(reader, "SELECT count(*) FROM t"));

        using var recovered = OpenCopy();
        Assert.Equal(451L, Scalar<long>(recovered, "SELECT count(*) FROM t"));
        Assert.Equal(Row(449) + "!", Scalar<string>(recovered, "SELECT body FROM t WHERE id = 449"));
        Assert.Equal("last", Scalar<string>(recovered, "SELECT body FROM t WHERE id = 1000"));
        Assert.Equal("ok", Scalar<string>(recovered, "PRAGMA integrity_check"));
    }

    [Fact]
    public void AnotherWriter_AfterARolledBackSpill_KeepsWhatItCommits()
    {
        // The first writer's rolled-back frames lie past the log's committed end, where the next
        // writer writes its own; the second connection's transaction began reading before them and
        // turns into a write. Whenever the first's frames reach the file, the second's commit must
        // be read whole, by a new connection and from a copy of the files.
        using var first = Open("PRAGMA synchronous=NORMAL; PRAGMA cache_size=20; PRAGMA wal_autocheckpoint=0;");
        using var second = Open("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;");
        Execute(first, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        using (var reading = second.BeginTransaction(deferred: true))
        {
            Assert.Equal(0L, Scalar<long>(second, "SELECT count(*) FROM t"));
            using (var transaction = first.BeginTransaction())
            {
                for (var i = 0; i < 200; i++)
                {
                    Execute(first, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
                }
                transaction.Rollback();
            }
            for (var i = 0; i < 20; i++)
            {
                Execute(second, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", 5000 + i), ("$body", Row(5000 + i)));
            }
            reading.Commit();
        }

        using var reader = Open("");
        Assert.Equal(20L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        Assert.Equal(Row(5019), Scalar<string>(reader, "SELECT body FROM t WHERE id = 5019"));
        Assert.Equal("ok", Scalar<string>(reader, "PRAGMA integrity_check"));
        using var recovered = OpenCopy();
        Assert.Equal(20L, Scalar<long>(recovered, "SELECT count(*) FROM t"));
        Assert.Equal("ok", Scalar<string>(recovered, "PRAGMA integrity_check"));
    }

    [Fact]
    public void ACommitWhoseFramesCannotBeWritten_Fails_AndLeavesTheDatabaseAsItWas()
    {
        using var writer = Open("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;");
        using var reader = Open("");
        Execute(writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
        Execute(writer, "INSERT INTO t (id, body) VALUES (1, 'kept')");

        // The held frames go out at the commit's own frame: the disk refuses them there.
        WalWriteCoalescing.t_failWritesWith = 13; // SQLITE_FULL
        try
        {
            using var transaction = writer.BeginTransaction();
            for (var i = 2; i < 12; i++)
            {
                Execute(writer, "INSERT INTO t (id, body) VALUES ($id, $body)", ("$id", i), ("$body", Row(i)));
            }
            var refused = Assert.Throws<SqliteException>(transaction.Commit);
            Assert.Equal(13, refused.SqliteErrorCode);
        }
        finally
        {
            WalWriteCoalescing.t_failWritesWith = 0;
        }

        Assert.Equal(1L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        Assert.Equal(1L, Scalar<long>(writer, "SELECT count(*) FROM t"));
        Execute(writer, "INSERT INTO t (id, body) VALUES (100, 'after')");
        Assert.Equal(2L, Scalar<long>(reader, "SELECT count(*) FROM t"));
        using var recovered = OpenCopy();
        Assert.Equal("kept", Scalar<string>(recovered, "SELECT body FROM t WHERE id = 1"));
        Assert.Equal("after", Scalar<string>(recovered, "SELECT body FROM t WHERE id = 100"));
        Assert.Equal(2L, Scalar<long>(recovered, "SELECT count(*) FROM t"));
        Assert.Equal("ok", Scalar<string>(recovered, "PRAGMA integrity_check"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
