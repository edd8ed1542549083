using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// The processor time this process spends over a phase (every thread: the contender, its receiver
/// and its load), told per item delivered: what the machine pays for each, in user and kernel mode.
/// On Linux also the share of it on the thread of Herald's SQLite group commit (which commits every
/// change and every scheduled attempt's outcome), and how much of the whole machine's time was
/// idle or waiting on the disk.
/// </summary>
internal sealed class CpuMeter
{
    /// <summary>The writer's thread name as the kernel keeps it (15 characters).</summary>
    private const string WriterThread = "Herald group co";

    private readonly TimeSpan _user;
    private readonly TimeSpan _kernel;
    private readonly long? _writerTicks;
    private readonly long[]? _machine;
    private readonly long _allocated = GC.GetTotalAllocatedBytes();
    private readonly int _collections = GC.CollectionCount(0);
    private readonly TimeSpan _paused = GC.GetTotalPauseDuration();
    private readonly long _started = Stopwatch.GetTimestamp();

    private CpuMeter((TimeSpan User, TimeSpan Kernel) now, long? writerTicks, long[]? machine) =>
        (_user, _kernel, _writerTicks, _machine) = (now.User, now.Kernel, writerTicks, machine);

    public static CpuMeter Start() => new(Now(), WriterTicks(), Machine());

    /// <summary>Microseconds of processor time per item since the start, user and kernel, into <paramref name="result"/>.</summary>
    public void Report(JsonObject result, long items)
    {
        var (user, kernel) = Now();
        var writer = WriterTicks();
        var machine = Machine();
        if (items <= 0)
        {
            return;
        }
        var userUs = (user - _user).TotalMicroseconds / items;
        var kernelUs = (kernel - _kernel).TotalMicroseconds / items;
        result["cpu_us_per_item"] = Load.Round(userUs + kernelUs);
        result["cpu_user_us_per_item"] = Load.Round(userUs);
        result["cpu_kernel_us_per_item"] = Load.Round(kernelUs);
        // What the process allocated an item (its garbage collector's work), the collections over the
        // phase and the share of its time the runtime was paused for them.
        result["allocated_kb_per_item"] = Load.Round((GC.GetTotalAllocatedBytes() - _allocated) / 1024.0 / items);
        result["gc_collections"] = GC.CollectionCount(0) - _collections;
        result["gc_pause_share"] = Load.Round((GC.GetTotalPauseDuration() - _paused) / Stopwatch.GetElapsedTime(_started), 3);
        if (writer is { } w && _writerTicks is { } w0 && w > w0)
        {
            // Clock ticks (USER_HZ, 100 a second on Linux) of the writer's threads, user and kernel.
            result["cpu_writer_us_per_item"] = Load.Round((w - w0) * 10_000.0 / items);
        }
        if (machine is not null && _machine is not null)
        {
            var total = machine.Sum() - _machine.Sum();
            // /proc/stat's fourth and fifth figures: idle, and idle with a disk request outstanding.
            var idle = machine[3] - _machine[3];
            var ioWait = machine[4] - _machine[4];
            if (total > 0)
            {
                result["machine_idle_share"] = Load.Round((double)idle / total, 3);
                result["machine_iowait_share"] = Load.Round((double)ioWait / total, 3);
            }
        }
    }

    private static (TimeSpan User, TimeSpan Kernel) Now()
    {
        using var process = Process.GetCurrentProcess();
        return (process.UserProcessorTime, process.PrivilegedProcessorTime);
    }

    /// <summary>User and kernel clock ticks of this process's writer threads so far; null where /proc is not there or there is no such thread.</summary>
    private static long? WriterTicks()
    {
        const string tasks = "/proc/self/task";
        if (!Directory.Exists(tasks))
        {
            return null;
        }
        long? ticks = null;
        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            // A thread that ended meanwhile has no stat left to read.
            if (ProcStat.Read(Path.Combine(task, "stat")) is { Name: WriterThread } stat)
            {
                ticks = (ticks ?? 0) + stat.Ticks;
            }
        }
        return ticks;
    }

    /// <summary>The whole machine's time so far by kind (/proc/stat's first line); null where it is not there.</summary>
    private static long[]? Machine()
    {
        const string stat = "/proc/stat";
        if (!File.Exists(stat))
        {
            return null;
        }
        using var reader = new StreamReader(stat);
        var line = reader.ReadLine();
        return line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
    }
}
