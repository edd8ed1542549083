using System.Globalization;

namespace Herald.Bench;

/// <summary>
/// What a process's or thread's <c>/proc/…/stat</c> says: its name, its parent, and the clock ticks
/// (USER_HZ, 100 a second on Linux) it and the children it has reaped spent, user and kernel.
/// </summary>
internal readonly record struct ProcStat(string Name, int Parent, long Ticks, long ReapedTicks)
{
    /// <summary>The stat file at <paramref name="path"/>; null when it is not there (the process or thread ended, or no /proc).</summary>
    public static ProcStat? Read(string path)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The name is in parentheses and may hold spaces or parentheses itself: it ends at the last
        // one. After it: state (0), parent (1), then utime (11), stime (12), cutime (13), cstime (14).
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }
        var fields = stat[(close + 2)..].Split(' ');
        long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        return new(stat[(open + 1)..close], (int)Field(1), Field(11) + Field(12), Field(13) + Field(14));
    }
}
