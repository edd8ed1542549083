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
        var message = e.Message;
        var missingDatabase = false;
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
