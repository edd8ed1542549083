namespace Herald.Cli.Commands;

/// <summary>
/// The hold a SQLite node keeps on its data folder while it serves: <c>herald.lock</c> in it, open
/// with no sharing (an advisory lock, which the system lets go of when the process ends however it
/// ends). A second node on the same folder would keep endpoints and leases in a memory of its own
/// beside the first's, each sending what the other had changed or claimed: it is refused instead.
/// </summary>
internal static class DataFolderLock
{
    public const string FileName = "herald.lock";

    /// <summary>
    /// Takes the folder's lock, the folder made first if need be. Held elsewhere: another process
    /// has it. Neither taken nor held elsewhere: the folder could not be made or written, which the
    /// node's start says in its own words.
    /// </summary>
    public static (FileStream? Lock, bool HeldElsewhere) TryTake(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            Storage.Sqlite.SqliteStoreOptions.CreateDataDirectory(dataDirectory);
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            return (new FileStream(path, options), false);
        }
        // The system's refusal of a lock another process holds, told from the folder's other troubles
        // (a read-only disk, say): a shared hold for reading is refused too while another process
        // keeps its own, and taken otherwise.
        catch (IOException) when (File.Exists(path) && !SharedHoldTaken(path))
        {
            return (null, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, false);
        }
    }

    /// <summary>Whether the folder has a lock file yet: one a command then makes is its own to take away should it fail.</summary>
    public static bool Exists(string dataDirectory) => File.Exists(Path.Combine(dataDirectory, FileName));

    /// <summary>
    /// Takes away the lock file a failed command made, while it still holds it: no other node can
    /// take that file between its release and its removal, and serve beside one that makes a new
    /// one. One that cannot be removed stays, and the next start uses it.
    /// </summary>
    public static void RemoveHeld(string dataDirectory)
    {
        try
        {
            File.Delete(Path.Combine(dataDirectory, FileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static bool SharedHoldTaken(string path)
    {
        try
        {
            using var reading = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
