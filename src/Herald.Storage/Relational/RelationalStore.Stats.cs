using System.Data.Common;
using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    private const long HourMs = 3_600_000;

    private const string MerchantAttempts =
        """
        FROM attempts a JOIN notifications n ON n.id = a.notification_id
        WHERE n.merchant_id = @merchantId AND a.started_at >= @since AND a.started_at < @until
        """;

    /// <summary>
    /// The merchant's attempts in a window read in a set order, for a database whose planner has no
    /// statistics to choose by (SQLite): the merchant's notifications outside, each one's attempts
    /// inside; or the window's attempts (every merchant's) outside, each one's notification inside.
    /// Null where the planner chooses from its own statistics (PostgreSQL): <see cref="MerchantAttempts"/>.
    /// </summary>
    protected virtual (string MerchantFirst, string WindowFirst)? MerchantAttemptsInOrder => null;

    /// <summary>How far each side is counted to choose the smaller: past it, both are large, and the window (a week at most) is read.</summary>
    private const int StatsSideCap = 50_000;

    /// <summary>
    /// Which of <see cref="MerchantAttemptsInOrder"/> reads less: the merchant's whole log (every
    /// notification it has, whatever its age, as an attempt in the window may be a resend of an old
    /// one) or the window's attempts of every merchant; each counted through its index, up to
    /// <see cref="StatsSideCap"/>.
    /// </summary>
    private async Task<string> MerchantAttemptsSourceAsync(DbConnection connection, object parameters, CancellationToken cancellationToken)
    {
        if (MerchantAttemptsInOrder is not { } ordered)
        {
            return MerchantAttempts;
        }
        var sides = await connection.QuerySingleAsync<StatsSidesRow>(Read(
            $"""
            SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE merchant_id = @merchantId LIMIT {StatsSideCap}) m) AS merchant,
              (SELECT COUNT(*) FROM (SELECT 1 FROM attempts WHERE started_at >= @since AND started_at < @until LIMIT {StatsSideCap}) w) AS in_window
            """, parameters, cancellationToken));
        return sides.merchant < sides.in_window ? ordered.MerchantFirst : ordered.WindowFirst;
    }

    public async Task<DeliveryStats> DeliveryStatsAsync(string merchantId, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        var parameters = new { merchantId, since = Time.Ms(since), until = Time.Ms(until) };
        await using var connection = await OpenAsync(cancellationToken);
        var source = await MerchantAttemptsSourceAsync(connection, parameters, cancellationToken);
        // Times are milliseconds since the epoch in both databases, so integer division buckets by hour alike.
        var hours = (await connection.QueryAsync<HourRow>(Read(
            $"""
            SELECT a.started_at / {HourMs} AS hour, COUNT(*) AS total, SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded
            {source}
            GROUP BY a.started_at / {HourMs}
            """, parameters, cancellationToken))).ToDictionary(r => r.hour);
        // Nearest-rank percentiles with window functions, which both databases have: rank ceil(p/100 * n).
        var endpoints = await connection.QueryAsync<EndpointStatsRow>(Read(
            $"""
            SELECT endpoint_id, COUNT(*) AS total, SUM(CASE WHEN succeeded THEN 1 ELSE 0 END) AS succeeded,
              MAX(CASE WHEN rn = (cnt * 50 + 99) / 100 THEN duration_ms END) AS p50,
              MAX(CASE WHEN rn = (cnt * 95 + 99) / 100 THEN duration_ms END) AS p95
            FROM (
              SELECT n.endpoint_id, a.duration_ms, a.succeeded,
                ROW_NUMBER() OVER (PARTITION BY n.endpoint_id ORDER BY a.duration_ms) AS rn,
                COUNT(*) OVER (PARTITION BY n.endpoint_id) AS cnt
              {source}
            ) ranked
            GROUP BY endpoint_id
            ORDER BY endpoint_id
            """, parameters, cancellationToken));

        var series = new List<HourlyAttempts>();
        for (var hour = Time.Ms(since) / HourMs; hour * HourMs < Time.Ms(until); hour++)
        {
            var row = hours.GetValueOrDefault(hour);
            series.Add(new HourlyAttempts(Time.At(hour * HourMs), (int)(row?.succeeded ?? 0), (int)((row?.total ?? 0) - (row?.succeeded ?? 0))));
        }
        return new DeliveryStats(since, until, series,
            endpoints.Select(e => new EndpointStats(e.endpoint_id, (int)e.total, (int)e.succeeded, (int)(e.p50 ?? 0), (int)(e.p95 ?? 0))).ToList());
    }

    public async Task<IReadOnlyDictionary<string, long>> CountNotificationsByStatusAsync(string merchantId, NotificationQuery query, int? newest = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var where = NotificationFilter(merchantId, query with { Status = null });
        var sql = newest is null
            ? $"SELECT status, COUNT(*) AS total FROM notifications WHERE {where} GROUP BY status"
            // The newest first, as the log reads them (backwards along the merchant's index), stopping at the cap.
            : $"SELECT status, COUNT(*) AS total FROM (SELECT status FROM notifications WHERE {where} ORDER BY id DESC LIMIT @newest) newest GROUP BY status";
        if (newest is { } cap)
        {
            where.Parameters.Add("newest", cap);
        }
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<StatusCountRow>(Read(sql, where.Parameters, cancellationToken));
        var counts = NotificationStatuses.All.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            counts[row.status] = row.total;
        }
        return counts;
    }

    private sealed class HourRow
    {
        public long hour { get; set; }
        public long total { get; set; }
        public long succeeded { get; set; }
    }

    private sealed class EndpointStatsRow
    {
        public string endpoint_id { get; set; } = "";
        public long total { get; set; }
        public long succeeded { get; set; }
        public long? p50 { get; set; }
        public long? p95 { get; set; }
    }

    private sealed class StatsSidesRow
    {
        public long merchant { get; set; }
        public long in_window { get; set; }
    }

    private sealed class StatusCountRow
    {
        public string status { get; set; } = "";
        public long total { get; set; }
    }
}
