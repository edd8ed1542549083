using System.CommandLine;
using Herald.Cli.Commands;

var root = new RootCommand("Herald: payment notifications, delivered.");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(BackupCommand.Create());
root.Subcommands.Add(ListenCommand.Create());
root.Subcommands.Add(TriggerCommand.Create());
return await root.Parse(args).InvokeAsync();
