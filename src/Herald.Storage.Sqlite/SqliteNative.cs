using System.Runtime.InteropServices;

namespace Herald.Storage.Sqlite;

/// <summary>
/// SQLite's own entry points, called on the raw handles, in the same library Microsoft.Data.Sqlite
/// loads (e_sqlite3). The writer's hot statements are bound and stepped through these: the library's
/// wrapper takes and releases a reference on each handle for every call.
/// </summary>
internal static unsafe partial class SqliteNative
{
    /// <summary>Tells <see cref="sqlite3_bind_text"/> to copy the text (SQLITE_TRANSIENT).</summary>
    public const nint Transient = -1;

    private const int ConfigMemStatus = 9;

    /// <summary>
    /// Before SQLite's first use in the process: Herald never reads SQLite's memory statistics,
    /// whose upkeep takes a process-wide lock on every allocation SQLite makes. Once SQLite is in
    /// use (something opened a database first) the call is refused and nothing changes. SQLite
    /// stays serialized (each connection locked on every call): a statement a caller never disposed
    /// is finalized on the collector's thread, which only that lock keeps from racing the
    /// connection's next user.
    /// </summary>
    public static void ConfigureBeforeFirstUse() => SQLitePCL.raw.sqlite3_config(ConfigMemStatus, 0);

    [LibraryImport("e_sqlite3")]
    public static partial nint sqlite3_vfs_find(byte* name);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_vfs_register(nint vfs, int makeDefault);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_step(nint statement);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_reset(nint statement);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_changes(nint db);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_bind_null(nint statement, int index);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_bind_int64(nint statement, int index, long value);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_column_count(nint statement);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_column_type(nint statement, int column);

    [LibraryImport("e_sqlite3")]
    public static partial long sqlite3_column_int64(nint statement, int column);

    [LibraryImport("e_sqlite3")]
    public static partial byte* sqlite3_column_text(nint statement, int column);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_column_bytes(nint statement, int column);

    [LibraryImport("e_sqlite3")]
    public static partial int sqlite3_bind_text(nint statement, int index, byte* text, int bytes, nint destructor);
}
