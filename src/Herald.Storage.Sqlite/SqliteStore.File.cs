using System.Data.Common;
using Herald.Storage.Abstractions;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Storage.Sqlite;

// What is wrong with the database when it fails: its file removed, replaced or read-only.
public sealed partial class SqliteStore
{
    /// <summary>
    /// Null when the database answers and its file is still where the store opened it: a file removed
    /// while it is open still takes writes, which would be gone at the next start.
    /// </summary>
    public override async Task<string?> DiagnoseAsync(CancellationToken cancellationToken = default) =>
        FileInPlace() ? await base.DiagnoseAsync(cancellationToken)
        // A file removed under the node is the operator's to restore, not a database to wait for.
        : (FileGone ? DatabaseTrouble.FileGone : DatabaseTrouble.Unreachable).Status();

    /// <summary>
    /// The room a full disk's volume must have again before the node is ready: SQLite's log then
    /// has room for a few hundred pages of new writes, and its checkpoint for moving them into the
    /// database's file.
    /// </summary>
    internal const long RoomAfterDiskFull = 4 * 1024 * 1024;

    protected override bool TroubleOver(DatabaseTrouble trouble)
    {
        if (trouble != DatabaseTrouble.DiskFull)
        {
            return true;
        }
        try
        {
            // What the node's user may write: a node running as root writes into the blocks the
            // file system keeps for it, which the space left to others leaves out.
            var volume = new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(_databasePath))!);
            return (Environment.IsPrivilegedProcess ? volume.TotalFreeSpace : volume.AvailableFreeSpace) >= RoomAfterDiskFull;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return true;
        }
    }

    // Its refusal to write once the file is gone (see BeginWriteAsync).
    protected override DatabaseTrouble? RefusalOf(Exception error) =>
        error is Herald.Errors.HeraldException { Kind: Herald.Errors.ErrorKind.Unavailable } && FileGone ? DatabaseTrouble.FileGone : null;

    protected override DatabaseTrouble? TroubleOf(DbException failure) => failure switch
    {
        SqliteException { SqliteErrorCode: raw.SQLITE_FULL } => DatabaseTrouble.DiskFull,
        SqliteException { SqliteErrorCode: raw.SQLITE_READONLY } => DatabaseTrouble.ReadOnly,
        // A connection opened anew finds no file at the path: it was removed under the node.
        SqliteException { SqliteErrorCode: raw.SQLITE_CANTOPEN } when !FileInPlace(lookAtDescriptors: false) => DatabaseTrouble.FileGone,
        SqliteException { SqliteErrorCode: raw.SQLITE_IOERR or raw.SQLITE_CANTOPEN } => DatabaseTrouble.FileUnusable,
        _ => null,
    };

    /// <summary>
    /// Whether the database's file is where the store opened it, noted for the writes: looked at by
    /// the checkpoint loop (four times a second) and by each readiness check, not by every write.
    /// </summary>
    private bool FileInPlace(bool lookAtDescriptors = true)
    {
        if (Volatile.Read(ref _removed))
        {
            return false;
        }
        // An open file of the database removed from its path is proof, and stays so: a file made
        // anew there is not the one the open connections write to. (Every open descriptor is looked
        // at: the checkpoint loop does so once a second, not at each of its ticks.)
        if (lookAtDescriptors && OpenFileRemoved())
        {
            Volatile.Write(ref _removed, true);
            return false;
        }
        // Its log too, while the writer holds it open (SQLite removes the log only when its last
        // connection closes): a log removed under a running node takes the changes written since
        // its last checkpoint with it at the next start, as a removed database file takes them all.
        // Not found at a look is not proof (a network disk may fail a look now and then), and is
        // looked at again at the next.
        var inPlace = File.Exists(_databasePath)
            && (Volatile.Read(ref _writer) is null || File.Exists(_databasePath + "-wal"));
        Volatile.Write(ref _missing, !inPlace);
        return inPlace;
    }

    // Set while the last look did not find the database's file or its log at its path (see FileInPlace).
    private bool _missing;

    // Set once an open file of the database is found removed from its path: for good, until a restart.
    private bool _removed;

    /// <summary>Whether the database's file or its log was found removed under the running store: it takes no change meanwhile (once its open file is seen removed, until a restart).</summary>
    public bool FileGone => Volatile.Read(ref _removed) || Volatile.Read(ref _missing);

    // The database file's path as the kernel names it (links resolved), null where it does not say.
    private readonly string? _databaseAsOpened;

    private const string Descriptors = "/proc/self/fd";

    /// <summary>
    /// The path the kernel gives an open file of <paramref name="path"/> (its links resolved), read
    /// from the process's descriptors on Linux; null elsewhere.
    /// </summary>
    private static string? PathAsOpened(string path)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(Descriptors))
        {
            return null;
        }
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new FileInfo($"{Descriptors}/{file.DangerousGetHandle()}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether one of this process's open files is the database or its log removed from its path
    /// (Linux names such a descriptor's file "… (deleted)"). A file of the same name made anew
    /// there, as the next connection SQLite opens does, passes a look at the path alone.
    /// </summary>
    /// <remarks>
    /// Every descriptor of the process (some hundreds: its libraries, its sockets) is read at most
    /// every <see cref="FullScanInterval"/>; between, only those found open on the database or its
    /// log then (the writer's, which stay open), and all again as soon as one of them is no longer.
    /// An idle node so reads a few links a second, not a few hundred.
    /// </remarks>
    private bool OpenFileRemoved()
    {
        if (_databaseAsOpened is null)
        {
            return false;
        }
        var known = Volatile.Read(ref _knownDescriptors);
        // The log among them once the writer holds it open (it opens it after the database file).
        if (known.Length > 0 && Environment.TickCount64 < Volatile.Read(ref _nextFullScan)
            && (Volatile.Read(ref _knownLog) || Volatile.Read(ref _writer) is null))
        {
            var stillOpen = true;
            foreach (var descriptor in known)
            {
                switch (Kind(LinkOf($"{Descriptors}/{descriptor}")))
                {
                    case DescriptorKind.Removed:
                        return true;
                    case DescriptorKind.Other:
                        stillOpen = false;
                        break;
                }
            }
            if (stillOpen)
            {
                return false;
            }
        }
        var found = new List<int>();
        var removed = false;
        var log = false;
        try
        {
            foreach (var descriptor in new DirectoryInfo(Descriptors).EnumerateFileSystemInfos())
            {
                var target = LinkOf(descriptor.FullName);
                switch (Kind(target))
                {
                    case DescriptorKind.Removed:
                        removed = true;
                        break;
                    case DescriptorKind.InPlace when int.TryParse(descriptor.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number):
                        found.Add(number);
                        log |= target!.EndsWith("-wal", StringComparison.Ordinal);
                        break;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        Volatile.Write(ref _knownDescriptors, found.ToArray());
        Volatile.Write(ref _knownLog, log);
        Volatile.Write(ref _nextFullScan, Environment.TickCount64 + (long)FullScanInterval.TotalMilliseconds);
        return removed;
    }

    /// <summary>How often every descriptor of the process is read (see <see cref="OpenFileRemoved"/>).</summary>
    private static readonly TimeSpan FullScanInterval = TimeSpan.FromSeconds(30);

    // The descriptors last found open on the database or its log, and when all are read again.
    private int[] _knownDescriptors = [];
    private bool _knownLog;
    private long _nextFullScan;

    private enum DescriptorKind
    {
        Other,
        InPlace,
        Removed,
    }

    /// <summary>What a descriptor's file is to the store: the database or its log, in place or removed, or another.</summary>
    private DescriptorKind Kind(string? target)
    {
        const string Removed = " (deleted)";
        if (target is null || _databaseAsOpened is null || !target.StartsWith(_databaseAsOpened, StringComparison.Ordinal))
        {
            return DescriptorKind.Other;
        }
        var gone = target.EndsWith(Removed, StringComparison.Ordinal);
        var rest = target.AsSpan(_databaseAsOpened.Length, target.Length - _databaseAsOpened.Length - (gone ? Removed.Length : 0));
        return !rest.IsEmpty && !rest.SequenceEqual("-wal") ? DescriptorKind.Other
            : gone ? DescriptorKind.Removed
            : DescriptorKind.InPlace;
    }

    /// <summary>The file a descriptor's link names; null when it was closed meanwhile.</summary>
    private static string? LinkOf(string descriptor)
    {
        try
        {
            return new FileInfo(descriptor).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
