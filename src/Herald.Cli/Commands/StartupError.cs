namespace Herald.Cli.Commands;

/// <summary>One line for the operator instead of a stack trace.</summary>
internal static class StartupError
{
    public static string Describe(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException or System.Data.Common.DbException)
            {
                message = inner.Message;
            }
        }
        return message.ReplaceLineEndings(" ");
    }
}
