using System.CommandLine;
using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Herald.Storage.Sqlite;

namespace Herald.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var postgres = CommonOptions.Postgres();
        var command = new Command("migrate", "Bring the database schema up to date and say what was applied.") { data, postgres };
        CommonOptions.RefuseBlankPostgres(command, postgres);
        CommonOptions.RefuseBlankData(command, data);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var connectionString = postgres.ValueIn(parse);
            var sqlite = new SqliteStoreOptions { DataDirectory = parse.GetValue(data)! };
            var where = connectionString is null ? sqlite.DatabasePath : "PostgreSQL";
            // A mistyped --data would otherwise look like an upgrade done: a new database is said to be one.
            var fresh = connectionString is null && !File.Exists(sqlite.DatabasePath);
            // Not under a node serving the folder: its schema would change beneath it. A lock file
            // this migration makes is taken away should it fail.
            var lockMade = connectionString is null && !DataFolderLock.Exists(sqlite.DataDirectory);
            var (folderLock, heldElsewhere) = connectionString is null ? DataFolderLock.TryTake(sqlite.DataDirectory) : (null, false);
            using var held = folderLock;
            if (heldElsewhere)
            {
                await Console.Error.WriteLineAsync($"herald: {Path.GetFullPath(sqlite.DataDirectory)} is in use by a running Herald node (it holds {DataFolderLock.FileName} there): stop it, then migrate.");
                return 1;
            }
            try
            {
                IHeraldStore store = connectionString is null
                    ? new SqliteStore(sqlite)
                    : new PostgresStore(connectionString) { MigrationWaits = () => Console.Error.WriteLine(CommonOptions.MigrationWaits) };
                try
                {
                    var applied = await store.MigrateAsync(cancellationToken);
                    Console.WriteLine(applied.Count == 0
                        ? $"{where}: schema is up to date"
                        : $"{where}{(fresh ? " (a new database: there was none)" : "")}: applied {string.Join(", ", applied)}");
                }
                finally
                {
                    switch (store)
                    {
                        case IAsyncDisposable d:
                            await d.DisposeAsync();
                            break;
                        case IDisposable d:
                            d.Dispose();
                            break;
                    }
                }
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or System.Data.Common.DbException or System.Net.Sockets.SocketException)
            {
                if (lockMade && held is not null)
                {
                    DataFolderLock.RemoveHeld(sqlite.DataDirectory);
                }
                await Console.Error.WriteLineAsync($"herald: migration failed: {StartupError.Describe(e, connectionString)}");
                return 1;
            }
        });
        return command;
    }
}
