namespace Herald.Storage.Sqlite;

/// <summary>Where and how the embedded store keeps its data.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The data folder; the database is <c>herald.db</c> inside it.</summary>
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "herald.db");
}
