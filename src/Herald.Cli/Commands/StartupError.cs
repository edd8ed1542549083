namespace Herald.Cli.Commands;

/// <summary>One line for the operator instead of a stack trace.</summary>
internal static class StartupError
{
    public static string Describe(Exception e)
    {
        var message = e.Message;
        var missingDatabase = false;
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException or System.Data.Common.DbException)
            {
                message = inner.Message;
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
}
