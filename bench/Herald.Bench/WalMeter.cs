using System.Text.Json.Nodes;
using Npgsql;

namespace Herald.Bench;

/// <summary>
/// What the PostgreSQL cluster wrote to its write-ahead log over a phase (from the log's position,
/// so exact and at once), told per item delivered: the server's share of the work, which, unlike
/// delivered/s, does not move with how fast the machine is that hour. The benchmark's cluster
/// serves only the row being measured, so the whole log's growth is that row's: its statements,
/// and the vacuuming and checkpoints they cause.
/// </summary>
internal sealed class WalMeter
{
    private readonly string _admin;
    private readonly string _start;

    private WalMeter(string admin, string start) => (_admin, _start) = (admin, start);

    public static async Task<WalMeter> StartAsync(string admin) =>
        new(admin, await ScalarAsync(admin, "SELECT pg_current_wal_lsn()::text", null) as string ?? throw new InvalidOperationException("no WAL position"));

    /// <summary>kB of WAL per item since the start, into <paramref name="result"/>.</summary>
    public async Task ReportAsync(JsonObject result, long items)
    {
        var bytes = Convert.ToDouble(await ScalarAsync(_admin, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), @start::pg_lsn)", _start), System.Globalization.CultureInfo.InvariantCulture);
        if (items > 0)
        {
            result["wal_kb_per_item"] = Load.Round(bytes / 1024.0 / items, 2);
        }
    }

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
