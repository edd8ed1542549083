namespace Herald.Storage.Abstractions;

/// <summary>
/// Why the database cannot be used now, as its driver or the store tells it: a failure no caller
/// caused and none can mend by asking differently, only by waiting for the operator or the server.
/// </summary>
public enum DatabaseTrouble
{
    /// <summary>The server does not answer, refuses the connection, or is shutting down.</summary>
    Unreachable,

    /// <summary>The server answers but has no connection left (its or a role's connection limit).</summary>
    OutOfConnections,

    /// <summary>The disk under the database is full.</summary>
    DiskFull,

    /// <summary>The database takes no writes.</summary>
    ReadOnly,

    /// <summary>The database's file cannot be opened, read or written.</summary>
    FileUnusable,

    /// <summary>The database's file was removed under the running node.</summary>
    FileGone,

    /// <summary>
    /// The database undid a write to break a lock cycle with another (a deadlock), on every try the
    /// write was given: reached and working, but busy with writes that take their rows in another order.
    /// </summary>
    Contended,
}

/// <summary>How each <see cref="DatabaseTrouble"/> is said, in an API answer and by <c>/readyz</c>.</summary>
public static class DatabaseTroubleWords
{
    /// <summary>The reason in a sentence: "Herald's database cannot take requests now (<i>reason</i>)".</summary>
    public static string Reason(this DatabaseTrouble trouble) => trouble switch
    {
        DatabaseTrouble.OutOfConnections => "it has no connection left for Herald: max_connections, or a CONNECTION LIMIT of the role or the database, is reached",
        DatabaseTrouble.DiskFull => "its disk is full",
        DatabaseTrouble.ReadOnly => "it is read-only",
        DatabaseTrouble.FileUnusable => "its file cannot be read or written",
        DatabaseTrouble.FileGone => "its file is gone",
        DatabaseTrouble.Contended => "it undid this request's writes to break a lock cycle with another write",
        _ => "it cannot be reached",
    };

    /// <summary>What a request is answered while the database's file is gone, whichever of its reads or writes found it so.</summary>
    public const string FileGoneRefusal = "Herald's database file is gone: nothing can be written until the operator restores it and restarts Herald";

    /// <summary>A few words, as <c>/readyz</c> says them after "database".</summary>
    public static string Status(this DatabaseTrouble trouble) => trouble switch
    {
        DatabaseTrouble.OutOfConnections => "out of connections",
        DatabaseTrouble.DiskFull => "disk full",
        DatabaseTrouble.ReadOnly => "read-only",
        DatabaseTrouble.FileUnusable => "file unusable",
        DatabaseTrouble.FileGone => "file gone",
        DatabaseTrouble.Contended => "contended",
        _ => "unreachable",
    };
}
