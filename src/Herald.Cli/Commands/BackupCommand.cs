using System.CommandLine;
using System.Globalization;
using Herald.Server.Hosting;

namespace Herald.Cli.Commands;

internal static class BackupCommand
{
    public static Command Create()
    {
        var to = new Argument<string>("folder") { Description = "The folder to write the copy to: a new one, or an empty one." };
        var data = CommonOptions.Data();
        var command = new Command("backup",
            "Copy a SQLite data folder as of one moment, while Herald runs: the database, the key ring that reads its endpoints' secrets, and the admin key.")
        {
            to, data,
        };
        CommonOptions.RefuseBlankData(command, data);
        to.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && string.IsNullOrWhiteSpace(result.Tokens[0].Value))
            {
                result.AddError("The folder to copy to is empty: name a new folder, or an empty one.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var from = parse.GetValue(data)!;
            var destination = parse.GetValue(to)!;
            // Ctrl+C or SIGTERM stops the copy, which then takes away what it wrote: left to the
            // system, the process ended at once, leaving the database's partial copy in the folder.
            using var stopping = new StopSignals(cancellationToken);
            try
            {
                // On a thread of its own: the database's copy runs synchronously, and the signal's
                // handler must be free to cancel it.
                var result = await Task.Run(() => DataFolderBackup.CopyAsync(from, destination, TimeProvider.System, stopping.Token), CancellationToken.None);
                var keys = result.Keys == 1 ? "1 key" : $"{result.Keys} keys";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{from} -> {destination}: herald.db ({result.DatabaseBytes / 1048576.0:F1} MB, as of {result.TakenAt:yyyy-MM-dd HH:mm:ss} UTC), {(result.Keys > 0 ? $"{HeraldServer.KeysFolder}/ ({keys})" : "no key ring (the data folder has none)")}{(result.AdminKey ? ", admin.key" : "")}"));
                Console.WriteLine($"To restore: stop Herald, then start it with --data {destination} (or put that folder where {from} was), and the same --keys-cert if it had one.");
                if (result.SecretsWithoutKeys)
                {
                    await Console.Error.WriteLineAsync($"herald: warning: {from} has no key ring ({HeraldServer.KeysFolder}/), so neither it nor this copy can read the endpoint secrets and headers its database holds: copy the {HeraldServer.KeysFolder}/ folder of the data folder they were made in into both, or rotate every endpoint's secret (and set its headers again) once restored");
                }
                return 0;
            }
            catch (Exception) when (stopping.Stopped)
            {
                await Console.Error.WriteLineAsync($"herald: backup stopped: nothing of it is left at {destination}");
                return stopping.ExitCode;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Data.Common.DbException)
            {
                await Console.Error.WriteLineAsync($"herald: backup failed: {StartupError.Describe(e)}");
                return 1;
            }
        });
        return command;
    }
}
