namespace Herald.Errors;

/// <summary>What an exception's chain says, for a log line that carries no stack.</summary>
public static class FailureWords
{
    /// <summary>What the driver said, in one line: each message down the chain once (the connection's and the socket's, say).</summary>
    public static string Said(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var messages = new List<string>();
        for (var inner = (Exception?)e; inner is not null; inner = inner.InnerException)
        {
            var line = inner.Message.ReplaceLineEndings(" ");
            if (!messages.Contains(line, StringComparer.Ordinal))
            {
                messages.Add(line);
            }
        }
        return string.Join(": ", messages);
    }
}
