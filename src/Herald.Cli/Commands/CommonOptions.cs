using System.CommandLine;

namespace Herald.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "The data folder (SQLite database, admin key); default: HERALD_DATA, else ./herald-data.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_DATA") ?? "herald-data",
    };

    public static Option<string?> Postgres() => new("--postgres")
    {
        Description = "A PostgreSQL connection string: use that shared database instead of SQLite (scale-out); default: HERALD_POSTGRES.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_POSTGRES"),
    };
}
