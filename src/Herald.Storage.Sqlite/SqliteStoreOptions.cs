namespace Herald.Storage.Sqlite;

/// <summary>Where and how the embedded store keeps its data.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The data folder; the database is <c>herald.db</c> inside it.</summary>
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "herald.db");

    /// <summary>
    /// Makes a data folder that does not exist yet, readable by its owner alone on Unix (it holds
    /// payloads, key hashes and the key ring); one that exists is left as the operator made it.
    /// <paramref name="what"/> names the folder in a refusal ("data", "backup").
    /// </summary>
    public static void CreateDataDirectory(string path, string what = "data")
    {
        // .NET's own words for it ("The file '…' already exists") read as if a file were to be made.
        if (File.Exists(path))
        {
            throw new IOException($"{path} is a file, not a folder: give a folder for the {what} (a new one is made)");
        }
        // A folder inside a file cannot be made: .NET says only that part of the path is not found.
        for (var above = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(above); above = Path.GetDirectoryName(above))
        {
            if (File.Exists(above))
            {
                throw new IOException($"{above} is a file, so the {what} folder {path} cannot be made in it: give a folder for the {what} (a new one is made)");
            }
        }
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>
    /// Makes the database file empty if it does not exist yet (the store's connections never make
    /// it), readable by its owner alone on Unix (SQLite gives its log and shared-memory files the
    /// database file's permissions), so the data stays the owner's even in a data folder others may
    /// read; one that exists is left as it is.
    /// </summary>
    public void CreateDatabaseFile()
    {
        if (File.Exists(DatabasePath))
        {
            return;
        }
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var _ = new FileStream(DatabasePath, options);
        }
        catch (IOException) when (File.Exists(DatabasePath))
        {
            // Made at the same moment by another process: SQLite opens it as it is.
        }
    }
}
