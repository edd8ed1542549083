using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Herald.Storage.Sqlite;

/// <summary>
/// SQLite appends a commit to its write-ahead log one frame at a time, each frame in two writes (a
/// 24-byte header, then the page): a commit of 40 pages is 80 system calls before its flush. This
/// wraps the operating system layer SQLite writes through (its default VFS) so that frames written
/// one after another at the log's end reach it as one write. What is held is written out when the
/// frame that commits a transaction is written (its header says so), so that a failure fails the
/// commit while SQLite can still undo it; a write over what the log already has (a restart's
/// header aside) goes straight through, after what is held, so its failure is SQLite's to see at
/// once. Whatever is held also goes out before the log is flushed, read, sized, truncated or closed,
/// before the write lock is let go (another writer may reuse those offsets), and before any commit
/// is published in the shared index: SQLite writes the index's two header copies on either side of
/// a memory barrier, and a reader trusts a header only when its copies agree. A write made there
/// for another connection that fails is kept as that connection's error, reported at its next
/// call; one that fails for the connection publishing stops the process rather than publish a
/// commit the log lacks. The same bytes reach the same file in the same order, and every flush
/// SQLite asks for still follows them; a process that dies holding frames loses what an unflushed
/// write loses anyway.
/// </summary>
internal static unsafe class WalWriteCoalescing
{
    private const int SqliteOk = 0;
    private const int SqliteIoErr = 10;
    private const int SqliteIoErrNoMem = 10 | (12 << 8);
    private const int OpenMainDb = 0x00000100;
    private const int OpenWal = 0x00080000;

    // sqlite3_vfs (version 3): iVersion, szOsFile, mxPathname, pNext, zName, pAppData, xOpen, ...
    private const int VfsSize = 168;
    private const int VfsSzOsFile = 4;
    private const int VfsNext = 16;
    private const int VfsName = 24;
    private const int VfsOpen = 40;

    // sqlite3_io_methods: iVersion, then the methods in this order.
    private const int MethodClose = 8;
    private const int MethodRead = 16;
    private const int MethodWrite = 24;
    private const int MethodTruncate = 32;
    private const int MethodSync = 40;
    private const int MethodFileSize = 48;
    private const int MethodFileControl = 80;
    private const int MethodShmLock = 112;
    private const int MethodShmBarrier = 120;

    // xShmLock: the WAL write lock is slot 0, let go with SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE.
    private const int WalWriteLock = 0;
    private const int ShmUnlockExclusive = 1 | 8;

    /// <summary>A log held back before it is written out, beyond this, is written out at once.</summary>
    private const int MaxHeld = 1 << 20;

    /// <summary>The most the POSIX VFS writes in one call (it masks a write's length to 17 bits: SQLite itself never asks for more).</summary>
    private const int MaxWrite = 0x1ffff;

    /// <summary>A frame's header (its page follows in the next write): the page's number, then, for the frame that commits a transaction, the database's size after it (zero otherwise).</summary>
    private const int FrameHeaderSize = 24;

    /// <summary>What this layer keeps after the default VFS's own file object.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Held
    {
        public nint RealMethods;
        public byte* Data;
        public long Offset;
        public long End;
        public int Length;
        public int Capacity;
        public int Listed;
        public int CommitFrame;
        public int Error;
        public int Thread;
    }

    private static readonly Lock Gate = new();
    private static readonly List<nint> Holding = [];
    private static readonly Dictionary<(nint Real, bool Wal), nint> Methods = [];
    private static int _holdingCount;
    private static nint _realVfs;
    private static int _realFileSize;
    private static long _received;
    private static long _written;

    /// <summary>Whether this process's SQLite connections write their logs through this layer.</summary>
    public static bool Installed { get; private set; }

    /// <summary>Log writes SQLite made, and writes that reached the file for them, since the start.</summary>
    public static (long Received, long Written) Counts => (Interlocked.Read(ref _received), Interlocked.Read(ref _written));

    /// <summary>
    /// For tests: while set on a thread, what this layer writes out on that thread fails with this
    /// SQLite error instead of reaching the file (as a full disk would make it fail).
    /// </summary>
    [ThreadStatic]
    internal static int t_failWritesWith;

    /// <summary>
    /// Makes this layer SQLite's default VFS in this process, wrapping the one that was (POSIX only;
    /// elsewhere SQLite's own is kept). Connections opened before keep the one they had.
    /// </summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (Installed || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
            {
                return;
            }
            SQLitePCL.Batteries_V2.Init();
            SqliteNative.ConfigureBeforeFirstUse();
            var real = SqliteNative.sqlite3_vfs_find(null);
            if (real == 0 || *(int*)real < 3 || Marshal.PtrToStringUTF8(*(nint*)(real + VfsName)) != "unix")
            {
                return;
            }
            _realVfs = real;
            _realFileSize = (*(int*)(real + VfsSzOsFile) + 7) & ~7;
            var vfs = (byte*)NativeMemory.AllocZeroed(VfsSize);
            Buffer.MemoryCopy((void*)real, vfs, VfsSize, VfsSize);
            *(int*)(vfs + VfsSzOsFile) = _realFileSize + sizeof(Held);
            *(nint*)(vfs + VfsNext) = 0;
            *(nint*)(vfs + VfsName) = Marshal.StringToCoTaskMemUTF8("herald-unix");
            *(nint*)(vfs + VfsOpen) = (nint)(delegate* unmanaged[Cdecl]<nint, nint, nint, int, int*, int>)&Open;
            if (SqliteNative.sqlite3_vfs_register((nint)vfs, 1) == SqliteOk)
            {
                Installed = true;
            }
        }
    }

    private static Held* HeldOf(nint file) => (Held*)(file + _realFileSize);

    private static nint Real(nint file, int method) => *(nint*)(HeldOf(file)->RealMethods + method);

    // No exception may leave a function SQLite calls (the process would end): each answers an
    // I/O error instead, out of memory as such.
    private static int Failed(Exception e) => e is OutOfMemoryException ? SqliteIoErrNoMem : SqliteIoErr;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(nint vfs, nint name, nint file, int flags, int* outFlags)
    {
        try
        {
            var held = HeldOf(file);
            *held = default;
            var rc = ((delegate* unmanaged[Cdecl]<nint, nint, nint, int, int*, int>)*(nint*)(_realVfs + VfsOpen))(_realVfs, name, file, flags, outFlags);
            var realMethods = *(nint*)file;
            if (rc == SqliteOk && realMethods != 0 && (flags & (OpenWal | OpenMainDb)) != 0)
            {
                held->RealMethods = realMethods;
                var wal = (flags & OpenWal) != 0;
                if (wal || *(int*)realMethods >= 2)
                {
                    *(nint*)file = MethodsFor(realMethods, wal);
                }
            }
            return rc;
        }
        catch (Exception e)
        {
            // The file, if opened, keeps the default VFS's own methods (set by its open).
            return Failed(e);
        }
    }

    /// <summary>The default VFS's methods with those this layer stands in for replaced: the log's
    /// writes and whatever must see them, or the database file's write lock and barrier.</summary>
    private static nint MethodsFor(nint real, bool wal)
    {
        lock (Gate)
        {
            if (!Methods.TryGetValue((real, wal), out var methods))
            {
                var version = *(int*)real;
                var size = version >= 3 ? 152 : version == 2 ? 136 : 104;
                var copy = (byte*)NativeMemory.AllocZeroed((nuint)size);
                Buffer.MemoryCopy((void*)real, copy, size, size);
                if (wal)
                {
                    *(nint*)(copy + MethodClose) = (nint)(delegate* unmanaged[Cdecl]<nint, int>)&Close;
                    *(nint*)(copy + MethodRead) = (nint)(delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)&Read;
                    *(nint*)(copy + MethodWrite) = (nint)(delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)&Write;
                    *(nint*)(copy + MethodTruncate) = (nint)(delegate* unmanaged[Cdecl]<nint, long, int>)&Truncate;
                    *(nint*)(copy + MethodSync) = (nint)(delegate* unmanaged[Cdecl]<nint, int, int>)&Sync;
                    *(nint*)(copy + MethodFileSize) = (nint)(delegate* unmanaged[Cdecl]<nint, long*, int>)&FileSize;
                    *(nint*)(copy + MethodFileControl) = (nint)(delegate* unmanaged[Cdecl]<nint, int, void*, int>)&FileControl;
                }
                else
                {
                    *(nint*)(copy + MethodShmLock) = (nint)(delegate* unmanaged[Cdecl]<nint, int, int, int, int>)&ShmLock;
                    *(nint*)(copy + MethodShmBarrier) = (nint)(delegate* unmanaged[Cdecl]<nint, void>)&ShmBarrier;
                }
                methods = (nint)copy;
                Methods[(real, wal)] = methods;
            }
            return methods;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(nint file, void* data, int amount, long offset)
    {
        try
        {
            Interlocked.Increment(ref _received);
            lock (Gate)
            {
                var held = HeldOf(file);
                held->Thread = Environment.CurrentManagedThreadId;
                var rc = TakeError(held);
                if (rc != SqliteOk)
                {
                    return rc;
                }
                if (offset == 0)
                {
                    // The log's header: the log starts over from its beginning.
                    rc = WriteOut(file, held);
                    held->End = 0;
                }
                else if (offset < held->End || (held->Length > 0 && held->Offset + held->Length != offset))
                {
                    // Over what the log has (a frame rewritten, its checksum mended) or away from
                    // what is held: what is held goes first, and a write over the log goes
                    // straight through, so that its failure is reported to the write that made it.
                    rc = WriteOut(file, held);
                    if (rc == SqliteOk && offset < held->End)
                    {
                        Interlocked.Increment(ref _written);
                        rc = ((delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)Real(file, MethodWrite))(file, data, amount, offset);
                        held->End = Math.Max(held->End, offset + amount);
                        return rc;
                    }
                }
                if (rc != SqliteOk)
                {
                    return rc;
                }
                Hold(file, held, data, amount, offset);
                // The commit's own frame (its header, then its page) is the transaction's last: what
                // is held goes out with it. (A stray 24-byte write taken for a commit's header only
                // writes out early.)
                var commits = held->CommitFrame != 0;
                var bytes = (byte*)data;
                held->CommitFrame = amount == FrameHeaderSize && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0 ? 1 : 0;
                return commits || held->Length >= MaxHeld ? WriteOut(file, held) : SqliteOk;
            }
        }
        catch (Exception e)
        {
            return Failed(e);
        }
    }

    /// <summary>Adds a write at the log's end to what the file holds; the caller holds the gate.</summary>
    private static void Hold(nint file, Held* held, void* data, int amount, long offset)
    {
        if (held->Length == 0)
        {
            held->Offset = offset;
        }
        if (held->Length + amount > held->Capacity)
        {
            var capacity = Math.Max(held->Capacity * 2, held->Length + amount);
            held->Data = (byte*)NativeMemory.Realloc(held->Data, (nuint)capacity);
            held->Capacity = capacity;
        }
        Buffer.MemoryCopy(data, held->Data + held->Length, amount, amount);
        held->Length += amount;
        held->End = Math.Max(held->End, offset + amount);
        if (held->Listed == 0)
        {
            Holding.Add(file);
            held->Listed = 1;
            Volatile.Write(ref _holdingCount, Holding.Count);
        }
    }

    /// <summary>The error a write made for this file on another connection's behalf met, once.</summary>
    private static int TakeError(Held* held)
    {
        var rc = held->Error;
        held->Error = SqliteOk;
        return rc;
    }

    /// <summary>Writes out what the file holds; the caller holds the gate.</summary>
    private static int WriteOut(nint file, Held* held)
    {
        if (held->Listed != 0)
        {
            held->Listed = 0;
            Holding.Remove(file);
            Volatile.Write(ref _holdingCount, Holding.Count);
        }
        var length = held->Length;
        var rc = SqliteOk;
        var write = (delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)Real(file, MethodWrite);
        for (var done = 0; done < length && rc == SqliteOk; done += MaxWrite)
        {
            Interlocked.Increment(ref _written);
            rc = t_failWritesWith != SqliteOk ? t_failWritesWith : write(file, held->Data + done, Math.Min(MaxWrite, length - done), held->Offset + done);
        }
        // Emptied only once written: a flush or read of this log on another thread that finds
        // nothing held can rely on the file having it. What failed to be written is dropped and
        // the error goes to the caller (see WriteOutAll for a write made on another's behalf).
        held->Length = 0;
        return rc;
    }

    /// <summary>
    /// Writes out what every log holds; the caller holds the gate. A failure for a log written on
    /// this thread (the connection now publishing a commit or letting the write lock go) is the
    /// caller's; one for another connection's log is kept as that connection's error.
    /// </summary>
    private static int WriteOutAll()
    {
        var own = SqliteOk;
        for (var i = Holding.Count - 1; i >= 0; i--)
        {
            var file = Holding[i];
            var held = HeldOf(file);
            var rc = WriteOut(file, held);
            if (rc != SqliteOk)
            {
                if (held->Thread == Environment.CurrentManagedThreadId)
                {
                    own = rc;
                }
                else
                {
                    held->Error = rc;
                }
            }
        }
        return own;
    }

    private static int WriteOut(nint file)
    {
        // Only this file's own connection adds to what it holds, on the thread calling here; a
        // barrier on another thread may be writing it out, and then holds the gate until done.
        var held = HeldOf(file);
        if (Volatile.Read(ref held->Length) == 0 && Volatile.Read(ref held->Error) == SqliteOk)
        {
            return SqliteOk;
        }
        lock (Gate)
        {
            var rc = TakeError(held);
            return rc != SqliteOk ? rc : WriteOut(file, held);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void ShmBarrier(nint file)
    {
        if (Volatile.Read(ref _holdingCount) > 0)
        {
            // Whatever any log holds goes out before a header can be published (a commit's frames
            // normally went out with its own frame already). The barrier cannot report a failure:
            // for the log of the connection publishing, the process stops rather than publish a
            // commit its log lacks (the log's checksums then end it at the last whole commit).
            int rc;
            try
            {
                lock (Gate)
                {
                    rc = WriteOutAll();
                }
            }
            catch (Exception e)
            {
                rc = Failed(e);
            }
            if (rc != SqliteOk)
            {
                Environment.FailFast($"SQLite's log could not be written before a commit was published (SQLite error {rc})");
            }
        }
        ((delegate* unmanaged[Cdecl]<nint, void>)Real(file, MethodShmBarrier))(file);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ShmLock(nint file, int offset, int count, int flags)
    {
        if (offset == WalWriteLock && flags == ShmUnlockExclusive && Volatile.Read(ref _holdingCount) > 0)
        {
            // Only the write lock's holder writes frames: what is held now is its own (a rolled-back
            // transaction's spilled frames), past the log's committed end. It goes out before another
            // writer may write at the same offsets; failing, it is dropped, being nothing committed.
            try
            {
                lock (Gate)
                {
                    _ = WriteOutAll();
                }
            }
            catch (Exception)
            {
                // Nothing committed is lost: see above.
            }
        }
        return ((delegate* unmanaged[Cdecl]<nint, int, int, int, int>)Real(file, MethodShmLock))(file, offset, count, flags);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sync(nint file, int flags)
    {
        var rc = WriteOutSafely(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, int, int>)Real(file, MethodSync))(file, flags);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(nint file, void* data, int amount, long offset)
    {
        var rc = WriteOutSafely(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)Real(file, MethodRead))(file, data, amount, offset);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(nint file, long size)
    {
        var rc = WriteOutSafely(file);
        if (rc == SqliteOk)
        {
            rc = ((delegate* unmanaged[Cdecl]<nint, long, int>)Real(file, MethodTruncate))(file, size);
            HeldOf(file)->End = Math.Min(HeldOf(file)->End, size);
        }
        return rc;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileSize(nint file, long* size)
    {
        var rc = WriteOutSafely(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, long*, int>)Real(file, MethodFileSize))(file, size);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileControl(nint file, int op, void* argument)
    {
        var rc = WriteOutSafely(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, int, void*, int>)Real(file, MethodFileControl))(file, op, argument);
    }

    private static int WriteOutSafely(nint file)
    {
        try
        {
            return WriteOut(file);
        }
        catch (Exception e)
        {
            return Failed(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Close(nint file)
    {
        var held = HeldOf(file);
        int rc;
        try
        {
            lock (Gate)
            {
                rc = TakeError(held);
                var written = WriteOut(file, held);
                rc = rc != SqliteOk ? rc : written;
            }
        }
        catch (Exception e)
        {
            rc = Failed(e);
        }
        var realClose = (delegate* unmanaged[Cdecl]<nint, int>)Real(file, MethodClose);
        NativeMemory.Free(held->Data);
        *held = default;
        var closed = realClose(file);
        return rc != SqliteOk ? rc : closed;
    }
}
