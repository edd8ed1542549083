using Herald.Server.Auth;
using Herald.Storage.Sqlite;

namespace Herald.Server.Hosting;

/// <summary>
/// A copy of a node's SQLite data folder as of one moment, made while the node runs: the database,
/// the key ring that reads its endpoints' secrets and signs portal sessions, and the admin key. A
/// node started on the copy's folder carries on from that moment.
/// </summary>
public static class DataFolderBackup
{
    /// <summary>What a backup wrote.</summary>
    /// <param name="DatabaseBytes">The size of the database's copy.</param>
    /// <param name="TakenAt">When the database's snapshot was taken (about).</param>
    /// <param name="Keys">How many key files the key ring had.</param>
    /// <param name="AdminKey">Whether the folder's admin key was copied (a node given <c>HERALD_ADMIN_KEY</c> keeps none).</param>
    /// <param name="SecretsWithoutKeys">Whether the database holds endpoint secrets or headers, and the folder no key ring to read them.</param>
    public sealed record Result(long DatabaseBytes, DateTimeOffset TakenAt, int Keys, bool AdminKey, bool SecretsWithoutKeys = false);

    /// <summary>
    /// Copies the data folder <paramref name="data"/> to <paramref name="destination"/>, a folder that
    /// must not exist yet or be empty. On failure nothing is left at the destination that could pass
    /// for a backup.
    /// </summary>
    /// <exception cref="IOException">The destination is taken, or a file could not be copied.</exception>
    /// <exception cref="FileNotFoundException">The data folder has no database.</exception>
    public static async Task<Result> CopyAsync(string data, string destination, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(data);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        ArgumentNullException.ThrowIfNull(time);
        var source = new SqliteStoreOptions { DataDirectory = data };
        if (!File.Exists(source.DatabasePath))
        {
            throw new FileNotFoundException($"there is no Herald database at {source.DatabasePath} (on PostgreSQL, back up the database itself, e.g. with pg_dump)", source.DatabasePath);
        }
        if (File.Exists(destination) || (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any()))
        {
            throw new IOException($"{destination} exists and is not an empty folder; name a new one");
        }
        if (Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(data).TrimEnd(Path.DirectorySeparatorChar))
        {
            throw new IOException($"{destination} is the data folder itself");
        }
        // It holds the key ring and the admin key: for its owner's eyes only (on Unix; on Windows
        // it takes its parent folder's permissions). A folder given empty is made so too.
        var made = !Directory.Exists(destination);
        SqliteStoreOptions.CreateDataDirectory(destination, "backup");
        var folder = new DirectoryInfo(destination);
        if (!made && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(destination, OwnerOnly);
        }
        var copy = new SqliteStoreOptions { DataDirectory = destination };
        var written = new List<string>();
        try
        {
            var takenAt = time.GetUtcNow();
            // The database is copied under a name of its own and takes its place last, once the key
            // ring and the admin key are in: a backup cut short where nothing catches it (SIGKILL, a
            // power cut) leaves no herald.db whose secrets no key in the folder reads.
            var partial = copy.DatabasePath + PartialSuffix;
            // The journal SQLite keeps beside a copy it is writing, left behind should the copy be stopped.
            written.Add(partial + "-journal");
            written.Add(partial);
            await SqliteStore.BackupAsync(source, partial, cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            // The key ring after the database: every key that protects a secret in the copy was
            // written before its snapshot was taken, and the ring never deletes a key.
            var keys = 0;
            var keysFrom = Path.Combine(data, HeraldServer.KeysFolder);
            if (Directory.Exists(keysFrom))
            {
                var keysTo = Path.Combine(destination, HeraldServer.KeysFolder);
                written.Add(keysTo);
                SqliteStoreOptions.CreateDataDirectory(keysTo);
                foreach (var file in Directory.EnumerateFiles(keysFrom))
                {
                    CopyToDisk(file, Path.Combine(keysTo, Path.GetFileName(file)), written);
                    keys++;
                }
            }
            var adminKey = Path.Combine(data, AdminKey.FileName);
            var hasAdminKey = File.Exists(adminKey);
            if (hasAdminKey)
            {
                CopyToDisk(adminKey, Path.Combine(destination, AdminKey.FileName), written);
            }
            var secretsWithoutKeys = keys == 0 && await HoldsSecretsAsync(partial, cancellationToken);
            written.Add(copy.DatabasePath);
            File.Move(partial, copy.DatabasePath);
            return new Result(new FileInfo(copy.DatabasePath).Length, takenAt, keys, hasAdminKey, secretsWithoutKeys);
        }
        catch
        {
            // A half-made copy (the database without its key ring, say) must not pass for a backup:
            // what this backup wrote goes, and nothing else (a failure here keeps the first one's reason).
            try
            {
                foreach (var path in Enumerable.Reverse(written))
                {
                    if (Directory.Exists(path))
                    {
                        Directory.Delete(path, recursive: true);
                    }
                    else
                    {
                        File.Delete(path);
                    }
                }
                if (made && !folder.EnumerateFileSystemInfos().Any())
                {
                    folder.Delete();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            throw;
        }
    }

    /// <summary>What the database's copy is called until the rest of the backup is in place.</summary>
    private const string PartialSuffix = ".partial";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Whether the database copied to <paramref name="path"/> holds an endpoint secret or endpoint headers, each kept encrypted.</summary>
    private static async Task<bool> HoldsSecretsAsync(string path, CancellationToken cancellationToken)
    {
        var connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path, Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM endpoint_secrets) OR EXISTS (SELECT 1 FROM endpoints WHERE headers IS NOT NULL)";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }

    /// <summary>Copies a file to a new one only its owner reads (whatever the source's own mode), flushed to disk.</summary>
    private static void CopyToDisk(string from, string to, List<string> written)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var target = new FileStream(to, options);
        written.Add(to);
        source.CopyTo(target);
        target.Flush(flushToDisk: true);
    }
}
