using System.CommandLine;

namespace Herald.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "The data folder (SQLite database, admin key).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_DATA") ?? "herald-data",
    };
}
