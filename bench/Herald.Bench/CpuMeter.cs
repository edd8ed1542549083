using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// The processor time this process spends over a phase (every thread: the contender, its receiver
/// and its load), told per item delivered: what the machine pays for each, in user and kernel mode.
/// </summary>
internal sealed class CpuMeter
{
    private readonly TimeSpan _user;
    private readonly TimeSpan _kernel;

    private CpuMeter((TimeSpan User, TimeSpan Kernel) now) => (_user, _kernel) = now;

    public static CpuMeter Start() => new(Now());

    /// <summary>Microseconds of processor time per item since the start, user and kernel, into <paramref name="result"/>.</summary>
    public void Report(JsonObject result, long items)
    {
        var (user, kernel) = Now();
        if (items <= 0)
        {
            return;
        }
        var userUs = (user - _user).TotalMicroseconds / items;
        var kernelUs = (kernel - _kernel).TotalMicroseconds / items;
        result["cpu_us_per_item"] = Load.Round(userUs + kernelUs);
        result["cpu_user_us_per_item"] = Load.Round(userUs);
        result["cpu_kernel_us_per_item"] = Load.Round(kernelUs);
    }

    private static (TimeSpan User, TimeSpan Kernel) Now()
    {
        using var process = Process.GetCurrentProcess();
        return (process.UserProcessorTime, process.PrivilegedProcessorTime);
    }
}
