namespace Herald.Cli.Commands;

/// <summary>One line for the operator instead of a stack trace.</summary>
internal static class StartupError
{
    /// <summary>
    /// <paramref name="e"/> in one line; with the PostgreSQL connection string used, a failure to
    /// connect names the server tried (the socket's words alone, "Connection refused" or "Name or
    /// service not known", did not say which).
    /// </summary>
    public static string Describe(Exception e, string? postgres = null)
    {
        // Npgsql's words for a connection string it cannot read name the setting alone ("Couldn't
        // set max pool size"), not whether its name or its value is wrong.
        if (postgres is not null && e is ArgumentException { ParamName: { Length: > 0 } setting, InnerException: { } why }
            && e.Message.StartsWith("Couldn't set ", StringComparison.Ordinal))
        {
            return why is KeyNotFoundException
                ? $"the connection string's '{setting}' is not a setting Npgsql knows (the settings: https://www.npgsql.org/doc/connection-string-parameters.html)"
                : $"the connection string's '{setting}' has a value Npgsql cannot read: {why.Message.ReplaceLineEndings(" ")}";
        }
        // Its words for a string that is not key=value pairs at all say where, not what it should be.
        if (postgres is not null && e is ArgumentException && e.Message.StartsWith("Format of the initialization string", StringComparison.Ordinal))
        {
            return "the connection string does not read as one: give settings as key=value pairs separated by ';', such as Host=db.internal;Database=herald;Username=herald";
        }
        // Logging's words for a level it does not know name neither the setting nor the levels.
        if (e is InvalidOperationException && e.Message.StartsWith("Configuration value '", StringComparison.Ordinal)
            && e.Message.EndsWith("' is not supported.", StringComparison.Ordinal))
        {
            var value = e.Message["Configuration value '".Length..^"' is not supported.".Length];
            return $"a log level is '{value}' (a Logging__LogLevel__ variable, or Logging:LogLevel in appsettings.json): give one of Trace, Debug, Information, Warning, Error, Critical or None";
        }
        var message = e.Message;
        var missingDatabase = false;
        var damaged = false;
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException or System.Data.Common.DbException)
            {
                message = inner is System.Net.Sockets.SocketException && Server(postgres) is { } server
                    ? $"cannot reach PostgreSQL at {server}: {inner.Message}"
                    : inner.Message;
            }
            // PostgreSQL's invalid_catalog_name: the connection string names a database the server lacks.
            missingDatabase |= inner is System.Data.Common.DbException { SqlState: "3D000" };
            // SQLite's words for a file that is not a database, or a damaged one, name neither the file nor a way out.
            damaged |= inner is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 11 or 26 };
        }
        if (damaged)
        {
            message += " (the data folder's herald.db is damaged, or is not Herald's database: stop Herald and restore the folder from a backup, see ./herald backup)";
        }
        if (missingDatabase)
        {
            message += " (Herald creates its tables, not the database: create it first, e.g. CREATE DATABASE herald)";
        }
        return message.ReplaceLineEndings(" ");
    }

    /// <summary>The server a connection string names (host and port, or the socket file), or null when it does not read.</summary>
    private static string? Server(string? postgres)
    {
        if (string.IsNullOrWhiteSpace(postgres))
        {
            return null;
        }
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(postgres);
            return builder.Host switch
            {
                null or "" => null,
                // A folder: the server's Unix socket in it.
                ['/', ..] host => $"{host.TrimEnd('/')}/.s.PGSQL.{builder.Port}",
                // Several hosts, each with its own port or the one given.
                var host when host.Contains(',', StringComparison.Ordinal) => $"{host} (port {builder.Port} unless given)",
                var host => $"{host}:{builder.Port}",
            };
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
