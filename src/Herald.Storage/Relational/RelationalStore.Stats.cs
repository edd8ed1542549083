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
        // Each endpoint's attempts counted by duration (whole milliseconds, so few distinct values),
        // its nearest-rank percentiles (rank ceil(p/100 * n)) then read from that histogram here: a
        // window function ranking every attempt took twice as long as the counting.
        var durations = await connection.QueryAsync<DurationCountRow>(Read(
            $"""
            SELECT n.endpoint_id, a.duration_ms, COUNT(*) AS total, SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded
            {source}
            GROUP BY n.endpoint_id, a.duration_ms
            """, parameters, cancellationToken));
        var endpoints = durations.GroupBy(d => d.endpoint_id, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(EndpointStatsOf);

        var series = new List<HourlyAttempts>();
        for (var hour = Time.Ms(since) / HourMs; hour * HourMs < Time.Ms(until); hour++)
        {
            var row = hours.GetValueOrDefault(hour);
            series.Add(new HourlyAttempts(Time.At(hour * HourMs), (int)(row?.succeeded ?? 0), (int)((row?.total ?? 0) - (row?.succeeded ?? 0))));
        }
        return new DeliveryStats(since, until, series,
            endpoints.ToList());
    }

    private static EndpointStats EndpointStatsOf(IGrouping<string, DurationCountRow> counts)
    {
        var sorted = counts.OrderBy(c => c.duration_ms).ToList();
        var total = sorted.Sum(c => c.total);
        return new EndpointStats(counts.Key, (int)total, (int)sorted.Sum(c => c.succeeded), Percentile(50), Percentile(95));

        int Percentile(long p)
        {
            var rank = (total * p + 99) / 100;
            var seen = 0L;
            foreach (var c in sorted)
            {
                seen += c.total;
                if (seen >= rank)
                {
                    return (int)c.duration_ms;
                }
            }
            return 0;
        }
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

    private sealed class DurationCountRow
    {
        public string endpoint_id { get; set; } = "";
        public long duration_ms { get; set; }
        public long total { get; set; }
        public long succeeded { get; set; }
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
