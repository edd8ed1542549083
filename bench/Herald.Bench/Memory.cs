using System.Diagnostics;
using System.Globalization;

namespace Herald.Bench;

/// <summary>This process's resident memory, from /proc/self/status where there is one.</summary>
internal static class Memory
{
    /// <summary>Resident set size now, in MB.</summary>
    public static double RssMb() => Read("VmRSS:") ?? Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    /// <summary>The highest resident set size this process has had, in MB.</summary>
    public static double PeakRssMb() => Read("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    private static double? Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return null;
        }
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kb = line[field.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return null;
    }
}

/// <summary>Samples resident memory in the background and keeps the highest value seen since the last reset.</summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private double _max;

    public RssSampler()
    {
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(200, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    public double MaxMb
    {
        get
        {
            Sample();
            return Volatile.Read(ref _max);
        }
    }

    public void Reset() => Volatile.Write(ref _max, Memory.RssMb());

    private void Sample()
    {
        var now = Memory.RssMb();
        double seen;
        do
        {
            seen = Volatile.Read(ref _max);
        }
        while (now > seen && Interlocked.CompareExchange(ref _max, now, seen) != seen);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
