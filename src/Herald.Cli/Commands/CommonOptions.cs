using System.CommandLine;
using System.Globalization;

namespace Herald.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "The data folder (SQLite database, admin key); default: HERALD_DATA, else ./herald-data.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_DATA") ?? "herald-data",
    };

    /// <summary>
    /// Refuses, in one line, a <see cref="Data"/> given blank or HERALD_DATA set blank: there is no
    /// folder by that name, and the command failed with a stack trace.
    /// </summary>
    public static void RefuseBlankData(Command command, Option<string> data) =>
        RefuseBlank(command, data, "HERALD_DATA", "the data folder", "to use ./herald-data");

    /// <summary>
    /// Refuses, in one line, <paramref name="option"/> given blank or its <paramref name="variable"/>
    /// set blank: read as left out, it switched the command to what runs without it
    /// (<paramref name="leftOut"/>), or failed it with a stack trace.
    /// </summary>
    public static void RefuseBlank(Command command, Option option, string variable, string what, string leftOut) =>
        command.Validators.Add(result =>
        {
            if (result.GetResult(option) is { Implicit: false } given)
            {
                // A value given twice is the parser's to report.
                if (given.Tokens.Count == 1 && string.IsNullOrWhiteSpace(given.Tokens[0].Value))
                {
                    result.AddError($"{option.Name} is empty: give {what}, or leave {option.Name} out {leftOut}.");
                }
            }
            else if (Environment.GetEnvironmentVariable(variable) is { } value && string.IsNullOrWhiteSpace(value))
            {
                result.AddError($"{variable} is set but empty: give it {what}, or unset it {leftOut}.");
            }
        });

    public static SecretOption Postgres() =>
        new("--postgres", "A PostgreSQL connection string: use that shared database instead of SQLite (scale-out)", "HERALD_POSTGRES");

    /// <summary>What serve and migrate say when another session holds the database's migration lock.</summary>
    public static string MigrationWaits =>
        $"herald: waiting for the database's migration lock (PostgreSQL advisory lock {Herald.Storage.Postgres.PostgresStore.MigrationLock}), held by another node migrating or another session; nothing is migrated or served until it is let go";

    /// <summary>
    /// Refuses a blank <see cref="Postgres"/> (or HERALD_POSTGRES) for <paramref name="command"/>: a
    /// node given an empty connection string ran on a SQLite database of its own, apart from the
    /// other nodes, and said it kept its data in PostgreSQL.
    /// </summary>
    public static void RefuseBlankPostgres(Command command, SecretOption postgres) =>
        postgres.RefuseBlank(command, "a PostgreSQL connection string", "to use SQLite in --data");

    /// <summary>
    /// Checks a whole-number option's value when one is given: <paramref name="refuse"/> says what is
    /// wrong with it, or null. A value that is no whole number is left to the parser, which says so
    /// in one line (reading it here would throw instead).
    /// </summary>
    public static void Check(this Option<int> option, Func<int, string?> refuse) =>
        option.Validators.Add(result =>
        {
            if (!result.Implicit && result.Tokens.Count == 1
                && int.TryParse(result.Tokens[0].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                && refuse(value) is { } error)
            {
                result.AddError(error);
            }
        });
}
