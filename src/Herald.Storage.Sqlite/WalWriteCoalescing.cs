using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Herald.Storage.Sqlite;

/// <summary>
/// SQLite appends a commit to its write-ahead log one frame at a time, each frame in two writes (a
/// 24-byte header, then the page): a commit of 40 pages is 80 system calls before its flush. This
/// wraps the operating system layer SQLite writes through (its default VFS) so that frames written
/// one after another reach the log as one write. The write is made when the frame that commits a
/// transaction is written (its header says so), so a failure fails the commit, and in any case
/// before anything could depend on the frames: before the log is flushed, read, sized, truncated
/// or closed, and before any commit is published in the shared index: SQLite writes the index's
/// two header copies on either side of a memory barrier and a reader trusts a header only when its
/// copies agree, so the barrier (called on the database file) writes out whatever is held first. The same
/// bytes reach the same file in the same order, and every flush SQLite asks for still happens after
/// them; a process that dies holding frames loses what an unflushed write loses anyway.
/// </summary>
internal static unsafe partial class WalWriteCoalescing
{
    private const int SqliteOk = 0;
    private const int SqliteIoErrWrite = 10 | (3 << 8);
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
    private const int MethodShmBarrier = 120;

    /// <summary>A log held back before it is written out, beyond this, is written out at once.</summary>
    private const int MaxHeld = 1 << 20;

    /// <summary>The most the POSIX VFS writes in one call (it masks a write's length to 17 bits: SQLite itself never asks for more).</summary>
    private const int MaxWrite = 0x1ffff;

    /// <summary>What this layer keeps after the default VFS's own file object.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Held
    {
        public nint RealMethods;
        public byte* Data;
        public long Offset;
        public int Length;
        public int Capacity;
        public int Listed;
        public int CommitFrame;
    }

    /// <summary>A frame's header (its page follows in the next write): the page's number, then, for the frame that commits a transaction, the database's size after it (zero otherwise).</summary>
    private const int FrameHeaderSize = 24;

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

    [LibraryImport("e_sqlite3")]
    private static partial nint sqlite3_vfs_find(byte* name);

    [LibraryImport("e_sqlite3")]
    private static partial int sqlite3_vfs_register(nint vfs, int makeDefault);

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
            var real = sqlite3_vfs_find(null);
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
            if (sqlite3_vfs_register((nint)vfs, 1) == SqliteOk)
            {
                Installed = true;
            }
        }
    }

    private static Held* HeldOf(nint file) => (Held*)(file + _realFileSize);

    private static nint Real(nint file, int method) => *(nint*)(HeldOf(file)->RealMethods + method);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(nint vfs, nint name, nint file, int flags, int* outFlags)
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

    /// <summary>The default VFS's methods with those this layer stands in for replaced: the log's
    /// writes and whatever must see them, or the database file's barrier.</summary>
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
        Interlocked.Increment(ref _received);
        lock (Gate)
        {
            var held = HeldOf(file);
            if (held->Length > 0 && held->Offset + held->Length != offset)
            {
                var rc = WriteOut(file, held);
                if (rc != SqliteOk)
                {
                    return rc;
                }
            }
            if (held->Length == 0)
            {
                held->Offset = offset;
            }
            if (held->Length + amount > held->Capacity)
            {
                var capacity = Math.Max(held->Capacity * 2, held->Length + amount);
                var grown = (byte*)NativeMemory.Realloc(held->Data, (nuint)capacity);
                if (grown == null)
                {
                    return SqliteIoErrWrite;
                }
                held->Data = grown;
                held->Capacity = capacity;
            }
            Buffer.MemoryCopy(data, held->Data + held->Length, amount, amount);
            held->Length += amount;
            if (held->Listed == 0)
            {
                held->Listed = 1;
                Holding.Add(file);
                Volatile.Write(ref _holdingCount, Holding.Count);
            }
            // The commit's own frame (its header, then its page) is the transaction's last: what
            // is held goes out with it, so that a failed write fails the commit while SQLite can
            // still undo it, flush or no flush. (A stray 24-byte write taken for a commit's header
            // only writes out early.)
            var commits = held->CommitFrame != 0;
            held->CommitFrame = amount == FrameHeaderSize && ((byte*)data)[4] + ((byte*)data)[5] + ((byte*)data)[6] + ((byte*)data)[7] != 0 ? 1 : 0;
            return commits || held->Length >= MaxHeld ? WriteOut(file, held) : SqliteOk;
        }
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
            rc = write(file, held->Data + done, Math.Min(MaxWrite, length - done), held->Offset + done);
        }
        // Emptied only once written: a flush or read of this log on another thread that finds
        // nothing held can rely on the file having it. What failed to be written is dropped, the
        // error reported to SQLite, which then commits nothing of it.
        held->Length = 0;
        return rc;
    }

    private static int WriteOut(nint file)
    {
        // Only this file's own connection adds to what it holds, on the thread calling here; a
        // barrier on another thread may be writing it out, and then holds the gate until done.
        if (Volatile.Read(ref HeldOf(file)->Length) == 0)
        {
            return SqliteOk;
        }
        lock (Gate)
        {
            return WriteOut(file, HeldOf(file));
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void ShmBarrier(nint file)
    {
        if (Volatile.Read(ref _holdingCount) > 0)
        {
            lock (Gate)
            {
                // Whatever any log holds goes out before a header can be published: the log this
                // connection wrote is among them (another's going out early changes nothing). A
                // commit's frames went out with its own frame already, where a failure is reported;
                // this catches what that missed, and a barrier has no way to report a failure.
                for (var i = Holding.Count - 1; i >= 0; i--)
                {
                    var holding = Holding[i];
                    _ = WriteOut(holding, HeldOf(holding));
                }
            }
        }
        ((delegate* unmanaged[Cdecl]<nint, void>)Real(file, MethodShmBarrier))(file);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sync(nint file, int flags)
    {
        var rc = WriteOut(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, int, int>)Real(file, MethodSync))(file, flags);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(nint file, void* data, int amount, long offset)
    {
        var rc = WriteOut(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, void*, int, long, int>)Real(file, MethodRead))(file, data, amount, offset);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(nint file, long size)
    {
        var rc = WriteOut(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, long, int>)Real(file, MethodTruncate))(file, size);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileSize(nint file, long* size)
    {
        var rc = WriteOut(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, long*, int>)Real(file, MethodFileSize))(file, size);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileControl(nint file, int op, void* argument)
    {
        var rc = WriteOut(file);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<nint, int, void*, int>)Real(file, MethodFileControl))(file, op, argument);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Close(nint file)
    {
        var held = HeldOf(file);
        int rc;
        lock (Gate)
        {
            rc = WriteOut(file, held);
        }
        var realClose = (delegate* unmanaged[Cdecl]<nint, int>)Real(file, MethodClose);
        NativeMemory.Free(held->Data);
        *held = default;
        var closed = realClose(file);
        return rc != SqliteOk ? rc : closed;
    }
}
