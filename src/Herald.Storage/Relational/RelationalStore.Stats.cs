using System.Data;
using System.Data.Common;
using Dapper;
using Herald.Storage.Abstractions;
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
    /// The merchant's attempts in a window read in a set order, chosen for each read by the sides'
    /// sizes (the planners chose badly: SQLite has no statistics to go by, and PostgreSQL's walked
    /// the whole notifications table): the merchant's notifications outside, each one's attempts
    /// inside; or the window's attempts (every merchant's) outside, each one's notification inside.
    /// Null where the planner is left to choose: <see cref="MerchantAttempts"/>.
    /// </summary>
    protected virtual (string MerchantFirst, string WindowFirst)? MerchantAttemptsInOrder => null;

    /// <summary>How far the merchant's log is counted: past it, it is taken as large, and the window (a week at most) is read.</summary>
    private const int StatsSideCap = 50_000;

    /// <summary>
    /// Which of <see cref="MerchantAttemptsInOrder"/> reads less over <paramref name="ranges"/>, chosen
    /// once for a read: the merchant's whole log (every notification it has, whatever its age, as an
    /// attempt in the window may be a resend of an old one), walked once for each range, or the
    /// ranges' attempts of every merchant; each side counted through its index, the log up to
    /// <see cref="StatsSideCap"/>, the ranges' attempts only as far as one past the rows the log's
    /// walks would read.
    /// </summary>
    private async Task<string> MerchantAttemptsSourceAsync(DbConnection connection, string merchantId, IReadOnlyList<(long Since, long Until)> ranges,
        CancellationToken cancellationToken)
    {
        if (MerchantAttemptsInOrder is not { } ordered || ranges.Count == 0)
        {
            return MerchantAttempts;
        }
        var merchant = await connection.ExecuteScalarAsync<long>(Read(
            $"SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE merchant_id = @merchantId LIMIT {StatsSideCap}) m", new { merchantId }, cancellationToken));
        if (merchant >= StatsSideCap)
        {
            return ordered.WindowFirst;
        }
        var parameters = new DynamicParameters(new { walked = merchant * ranges.Count + 1 });
        var inRanges = string.Join(" UNION ALL ", ranges.Select((r, i) =>
        {
            parameters.Add($"since{i}", r.Since);
            parameters.Add($"until{i}", r.Until);
            return $"SELECT 1 FROM attempts WHERE started_at >= @since{i} AND started_at < @until{i}";
        }));
        var inWindow = await connection.ExecuteScalarAsync<long>(Read($"SELECT COUNT(*) FROM ({inRanges} LIMIT @walked) w", parameters, cancellationToken));
        return ReadsMerchantFirst(merchant, inWindow, ranges.Count) ? ordered.MerchantFirst : ordered.WindowFirst;
    }

    /// <summary>
    /// Whether walking a log of <paramref name="merchant"/> notifications once for each of
    /// <paramref name="ranges"/> reads fewer rows than the <paramref name="inWindow"/> attempts of the
    /// ranges; never for a log of <see cref="StatsSideCap"/> or more. The same answer from the sides'
    /// sizes as <see cref="MerchantAttemptsSourceAsync"/> counts them as from their whole sizes.
    /// </summary>
    internal static bool ReadsMerchantFirst(long merchant, long inWindow, int ranges) =>
        merchant < StatsSideCap && merchant * ranges < inWindow;

    /// <summary>
    /// How long after an hour ends an attempt that started in it may still be recorded, with room to
    /// spare: an attempt's <c>started_at</c> is read just before its request is sent, and its outcome
    /// is recorded once it is answered, within its endpoint's <c>timeout_seconds</c> (at most 60 s),
    /// and committed (a statement gives up after 30 s on either database); a stopping node records
    /// those it sent within its shutdown grace (at most 600 s). 15 minutes is longer than all of
    /// these together, with minutes over for the clocks of several PostgreSQL nodes to disagree.
    /// Past it, the hour is settled: its figures are kept once worked out, and read from then on.
    /// </summary>
    private const long SettledAfterMs = 15 * 60_000;

    /// <summary>The most hours of attempts one statement of a stats read counts, so that none runs long on a busy merchant.</summary>
    private const long MaxHoursCounted = 24;

    public async Task<DeliveryStats> DeliveryStatsAsync(string merchantId, DateTimeOffset since, DateTimeOffset until, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        long sinceMs = Time.Ms(since), untilMs = Time.Ms(until);
        var end = Math.Min(untilMs / HourMs, (Time.Ms(now) - SettledAfterMs) / HourMs);
        var hours = new Dictionary<long, (long Total, long Succeeded)>();
        var durations = new Dictionary<(string EndpointId, long DurationMs), (long Total, long Succeeded)>();
        void Add<TKey>(Dictionary<TKey, (long Total, long Succeeded)> counts, TKey key, long total, long succeeded) where TKey : notnull
        {
            var (t, s) = counts.GetValueOrDefault(key);
            counts[key] = (t + total, s + succeeded);
        }
        var keptHours = new HashSet<long>();
        var epoch = 0L;
        var toKeep = new SortedDictionary<long, List<HourDurationRow>>();
        await using (var connection = await OpenAsync(cancellationToken))
        {
            // No attempt of the merchant's is older than the merchant (an hour spared for nodes'
            // clocks): the hours before it are neither counted nor kept, however far back the window.
            var createdMs = await connection.ExecuteScalarAsync<long?>(Read(
                "SELECT created_at FROM merchants WHERE id = @merchantId", new { merchantId }, cancellationToken)) ?? untilMs;
            var fromMs = Math.Max(sinceMs, (createdMs / HourMs - 1) * HourMs);
            // The settled whole hours inside the window, [first, end), come from the kept figures (kept
            // now where they are not yet); the window's edges and the newest hours from their attempts.
            var first = fromMs <= 0 ? 0 : (fromMs + HourMs - 1) / HourMs;
            if (first < end)
            {
                // In one statement, so that the hours and their durations are read as one: an hour a
                // purge took the figures of meanwhile is missing from both, and read from its
                // attempts. The merchant's epoch is read with them, before any attempt is counted.
                foreach (var k in await connection.QueryAsync<KeptRow>(Read(
                    """
                    SELECT 'h' AS kind, hour, '' AS endpoint_id, 0 AS duration_ms, total, succeeded FROM attempt_hours
                    WHERE merchant_id = @merchantId AND hour >= @first AND hour < @end
                    UNION ALL
                    SELECT 'd' AS kind, 0 AS hour, endpoint_id, duration_ms, SUM(total) AS total, SUM(succeeded) AS succeeded FROM attempt_hour_durations
                    WHERE merchant_id = @merchantId AND hour >= @first AND hour < @end GROUP BY endpoint_id, duration_ms
                    UNION ALL
                    SELECT 'e' AS kind, 0 AS hour, '' AS endpoint_id, 0 AS duration_ms, COALESCE((SELECT epoch FROM attempt_hour_epochs WHERE merchant_id = @merchantId), 0) AS total, 0 AS succeeded
                    """, new { merchantId, first, end }, cancellationToken)))
                {
                    switch (k.kind)
                    {
                        case "h":
                            keptHours.Add(k.hour);
                            Add(hours, k.hour, k.total, k.succeeded);
                            break;
                        case "d":
                            Add(durations, (k.endpoint_id, k.duration_ms), k.total, k.succeeded);
                            break;
                        default:
                            epoch = k.total;
                            break;
                    }
                }
                for (var hour = first; hour < end; hour++)
                {
                    if (!keptHours.Contains(hour))
                    {
                        toKeep[hour] = [];
                    }
                }
            }
            var ranges = AttemptRanges(fromMs, untilMs, first, end, keptHours);
            var source = await MerchantAttemptsSourceAsync(connection, merchantId, ranges, cancellationToken);
            foreach (var (from, to) in ranges)
            {
                foreach (var c in await CountAttemptsAsync(connection, source, new { merchantId, since = from, until = to }, cancellationToken))
                {
                    Add(hours, c.hour, c.total, c.succeeded);
                    Add(durations, (c.endpoint_id, c.duration_ms), c.total, c.succeeded);
                    toKeep.GetValueOrDefault(c.hour)?.Add(c);
                }
            }
        }
        // Kept once the read's connection is given back, so that it never holds one while it waits for another.
        if (toKeep.Count > 0)
        {
            try
            {
                await KeepHoursAsync(merchantId, epoch, toKeep, cancellationToken);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // The kept figures save later reads a count, and the answer is worked out already:
                // whatever stops the keeping (a database that takes no writes, its disk full or a
                // read-only standby; a lock or statement timeout behind an erasure; SQLite's file
                // gone), the read answers from its counts, and the hours not kept are counted
                // again next time; the host says so in its log.
                KeepingFailed?.Invoke(merchantId, e);
            }
        }
        var endpoints = durations.GroupBy(d => d.Key.EndpointId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(EndpointStatsOf);

        var series = new List<HourlyAttempts>();
        for (var hour = sinceMs / HourMs; hour * HourMs < untilMs; hour++)
        {
            var (total, succeeded) = hours.GetValueOrDefault(hour);
            series.Add(new HourlyAttempts(Time.At(hour * HourMs), (int)succeeded, (int)(total - succeeded)));
        }
        return new DeliveryStats(since, until, series,
            endpoints.ToList());
    }

    /// <summary>
    /// The parts of [<paramref name="sinceMs"/>, <paramref name="untilMs"/>) read from their attempts:
    /// all but the kept hours of [<paramref name="first"/>, <paramref name="end"/>), each run of the
    /// rest in spans of whole hours (at most <see cref="MaxHoursCounted"/>), so that an hour to keep
    /// is counted by one statement.
    /// </summary>
    private static List<(long Since, long Until)> AttemptRanges(long sinceMs, long untilMs, long first, long end, HashSet<long> keptHours)
    {
        var ranges = new List<(long Since, long Until)>();
        void Span(long from, long to)
        {
            for (var at = from; at < to; at = Math.Min(to, (at / HourMs + MaxHoursCounted) * HourMs))
            {
                ranges.Add((at, Math.Min(to, (at / HourMs + MaxHoursCounted) * HourMs)));
            }
        }
        var start = sinceMs;
        for (var hour = first; hour < end; hour++)
        {
            if (keptHours.Contains(hour))
            {
                Span(start, hour * HourMs);
                start = (hour + 1) * HourMs;
            }
        }
        Span(start, untilMs);
        return ranges;
    }

    /// <summary>
    /// The merchant's attempts in [<c>@since</c>, <c>@until</c>) counted by hour, endpoint and
    /// duration (whole milliseconds, so few distinct values), read through <paramref name="source"/>:
    /// each endpoint's nearest-rank percentiles (rank ceil(p/100 * n)) are read from that histogram,
    /// as a window function ranking every attempt took twice as long as the counting.
    /// </summary>
    private static async Task<IReadOnlyList<HourDurationRow>> CountAttemptsAsync(DbConnection connection, string source, object parameters, CancellationToken cancellationToken) =>
        // Times are milliseconds since the epoch in both databases, so integer division buckets by hour alike.
        (await connection.QueryAsync<HourDurationRow>(Read(
            $"""
            SELECT a.started_at / {HourMs} AS hour, n.endpoint_id, a.duration_ms, COUNT(*) AS total, SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded
            {source}
            GROUP BY a.started_at / {HourMs}, n.endpoint_id, a.duration_ms
            """, parameters, cancellationToken))).AsList();

    private static EndpointStats EndpointStatsOf(IGrouping<string, KeyValuePair<(string EndpointId, long DurationMs), (long Total, long Succeeded)>> counts)
    {
        var sorted = counts.Select(c => (duration_ms: c.Key.DurationMs, total: c.Value.Total, succeeded: c.Value.Succeeded)).OrderBy(c => c.duration_ms).ToList();
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
        var counted = query with { Status = null };
        var where = NotificationFilter(merchantId, counted);
        // An endpoint with few notifications is counted through its index, not by walking the merchant's log.
        var source = await NotificationsSourceAsync(merchantId, counted, where, cancellationToken);
        var sql = newest is null
            ? $"SELECT status, COUNT(*) AS total FROM {source} WHERE {where} GROUP BY status"
            // The newest first, as the log reads them (backwards along the merchant's index), stopping at the cap.
            : $"SELECT status, COUNT(*) AS total FROM (SELECT status FROM {source} WHERE {where} ORDER BY id DESC LIMIT @newest) newest GROUP BY status";
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

    private sealed class KeptRow
    {
        public string kind { get; set; } = "";
        public long hour { get; set; }
        public string endpoint_id { get; set; } = "";
        public long duration_ms { get; set; }
        public long total { get; set; }
        public long succeeded { get; set; }
    }

    private sealed class HourDurationRow
    {
        public long hour { get; set; }
        public string endpoint_id { get; set; } = "";
        public long duration_ms { get; set; }
        public long total { get; set; }
        public long succeeded { get; set; }
    }

    private sealed class StatusCountRow
    {
        public string status { get; set; } = "";
        public long total { get; set; }
    }
}
