using System.CommandLine;
using Herald.Storage.Sqlite;

namespace Herald.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var command = new Command("migrate", "Bring the database schema up to date and say what was applied.") { data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SqliteStoreOptions { DataDirectory = parse.GetValue(data)! };
            try
            {
                using var store = new SqliteStore(options);
                var applied = await store.MigrateAsync(cancellationToken);
                Console.WriteLine(applied.Count == 0
                    ? $"{options.DatabasePath}: schema is up to date"
                    : $"{options.DatabasePath}: applied {string.Join(", ", applied)}");
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Data.Common.DbException)
            {
                await Console.Error.WriteLineAsync($"herald: migration failed: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
