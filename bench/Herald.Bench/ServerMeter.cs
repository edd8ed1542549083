using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;

namespace Herald.Bench;

/// <summary>
/// The PostgreSQL cluster's share of a phase, told per item delivered: what it wrote to its
/// write-ahead log (from the log's position, so exact and at once), which unlike delivered/s does
/// not move with how fast the machine is that hour; and, where the server runs on this machine, the
/// processor time of all its processes (the postmaster and its children, those that ended included).
/// The benchmark's cluster serves only the row being measured, so all of it is that row's: its
/// statements, and the vacuuming and checkpoints they cause.
/// </summary>
internal sealed class ServerMeter
{
    private readonly string _admin;
    private readonly string _start;
    private readonly int? _postmaster;
    private readonly long? _ticks;

    private ServerMeter(string admin, string start, int? postmaster) =>
        (_admin, _start, _postmaster, _ticks) = (admin, start, postmaster, postmaster is { } p ? Ticks(p) : null);

    public static async Task<ServerMeter> StartAsync(string admin)
    {
        var start = await ScalarAsync(admin, "SELECT pg_current_wal_lsn()::text", null) as string ?? throw new InvalidOperationException("no WAL position");
        // A backend's parent is the postmaster; a server elsewhere has no such process here.
        var backend = Convert.ToInt32(await ScalarAsync(admin, "SELECT pg_backend_pid()", null), CultureInfo.InvariantCulture);
        return new(admin, start, Stat(backend) is { } stat ? stat.Parent : null);
    }

    /// <summary>kB of WAL and µs of the server's processor time per item since the start, into <paramref name="result"/>.</summary>
    public async Task ReportAsync(JsonObject result, long items)
    {
        var bytes = Convert.ToDouble(await ScalarAsync(_admin, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), @start::pg_lsn)", _start), CultureInfo.InvariantCulture);
        var ticks = _postmaster is { } p ? Ticks(p) : null;
        if (items <= 0)
        {
            return;
        }
        result["wal_kb_per_item"] = Load.Round(bytes / 1024.0 / items, 2);
        if (ticks is { } t && _ticks is { } t0 && t >= t0)
        {
            // Clock ticks (USER_HZ, 100 a second on Linux), user and kernel.
            result["server_cpu_us_per_item"] = Load.Round((t - t0) * 10_000.0 / items);
        }
    }

    /// <summary>
    /// Clock ticks the postmaster, its live children and the children it has reaped have spent so
    /// far; null where /proc is not there or the postmaster is gone. A child that ends moves from the
    /// live ones into the postmaster's reaped total, so nothing is counted twice or lost.
    /// </summary>
    private static long? Ticks(int postmaster)
    {
        if (Stat(postmaster) is not { } own)
        {
            return null;
        }
        var ticks = own.Ticks + own.ReapedTicks;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && Stat(pid) is { } child && child.Parent == postmaster)
            {
                ticks += child.Ticks;
            }
        }
        return ticks;
    }

    private static ProcStat? Stat(int pid) => ProcStat.Read($"/proc/{pid}/stat");

    private static async Task<object?> ScalarAsync(string admin, string sql, string? start)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (start is not null)
        {
            command.Parameters.AddWithValue("start", start);
        }
        return await command.ExecuteScalarAsync();
    }
}
