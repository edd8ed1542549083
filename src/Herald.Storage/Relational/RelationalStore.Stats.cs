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
    private async Task<string> MerchantAttemptsSourceAsync(DbConnection connection, DbTransaction? transaction, object parameters, CancellationToken cancellationToken)
    {
        if (MerchantAttemptsInOrder is not { } ordered)
        {
            return MerchantAttempts;
        }
        var sides = await connection.QuerySingleAsync<StatsSidesRow>(new CommandDefinition(
            $"""
            SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE merchant_id = @merchantId LIMIT {StatsSideCap}) m) AS merchant,
              (SELECT COUNT(*) FROM (SELECT 1 FROM attempts WHERE started_at >= @since AND started_at < @until LIMIT {StatsSideCap}) w) AS in_window
            """, parameters, transaction, cancellationToken: cancellationToken));
        return sides.merchant < sides.in_window ? ordered.MerchantFirst : ordered.WindowFirst;
    }

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

    /// <summary>
    /// Where writers run at once, what a transaction keeping an hour's figures takes before it
    /// reads the hour's attempts, so that a merchant's erasure (or a purge) deleting them waits for
    /// it, or it reads what they left. Null where one writer runs at a time.
    /// </summary>
    protected virtual string? KeptHoursLock => null;

    public async Task<DeliveryStats> DeliveryStatsAsync(string merchantId, DateTimeOffset since, DateTimeOffset until, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        long sinceMs = Time.Ms(since), untilMs = Time.Ms(until);
        // The settled whole hours inside the window, [first, end), come from the kept figures (kept
        // now where they are not yet); the window's edges and the newest hours from their attempts.
        var first = sinceMs <= 0 ? 0 : (sinceMs + HourMs - 1) / HourMs;
        var end = Math.Min(untilMs / HourMs, (Time.Ms(now) - SettledAfterMs) / HourMs);
        var hours = new Dictionary<long, (long Total, long Succeeded)>();
        var durations = new Dictionary<(string EndpointId, long DurationMs), (long Total, long Succeeded)>();
        void Add<TKey>(Dictionary<TKey, (long Total, long Succeeded)> counts, TKey key, long total, long succeeded) where TKey : notnull
        {
            var (t, s) = counts.GetValueOrDefault(key);
            counts[key] = (t + total, s + succeeded);
        }
        (long Since, long Until)[] fromAttempts = [(sinceMs, untilMs)];
        if (first < end)
        {
            try
            {
                await KeepHoursAsync(merchantId, first, end, cancellationToken);
            }
            catch (Exception e) when (TroubleOf(e) is DatabaseTrouble.DiskFull or DatabaseTrouble.ReadOnly)
            {
                // A database that takes no writes (its disk full, a read-only standby) is still read:
                // the hours not kept are counted from their attempts, as the newest are.
            }
        }
        // Opened once the hours are kept, so that a read never holds one connection while it waits for another.
        await using var connection = await OpenAsync(cancellationToken);
        if (first < end)
        {
            // In one statement, so that the hours and their durations are read as one: an hour a
            // purge took the figures of meanwhile is missing from both, and read from its attempts.
            var keptHours = new HashSet<long>();
            foreach (var k in await connection.QueryAsync<KeptRow>(Read(
                """
                SELECT 'h' AS kind, hour, '' AS endpoint_id, 0 AS duration_ms, total, succeeded FROM attempt_hours
                WHERE merchant_id = @merchantId AND hour >= @first AND hour < @end
                UNION ALL
                SELECT 'd' AS kind, 0 AS hour, endpoint_id, duration_ms, SUM(total) AS total, SUM(succeeded) AS succeeded FROM attempt_hour_durations
                WHERE merchant_id = @merchantId AND hour >= @first AND hour < @end GROUP BY endpoint_id, duration_ms
                """, new { merchantId, first, end }, cancellationToken)))
            {
                if (k.kind == "h")
                {
                    keptHours.Add(k.hour);
                    Add(hours, k.hour, k.total, k.succeeded);
                }
                else
                {
                    Add(durations, (k.endpoint_id, k.duration_ms), k.total, k.succeeded);
                }
            }
            var unkept = Enumerable.Range(0, (int)(end - first)).Select(i => first + i).Where(h => !keptHours.Contains(h));
            fromAttempts = [(sinceMs, first * HourMs), .. unkept.Select(h => (h * HourMs, (h + 1) * HourMs)), (end * HourMs, untilMs)];
        }
        foreach (var (from, to) in fromAttempts.Where(r => r.Since < r.Until))
        {
            foreach (var c in await CountAttemptsAsync(connection, null, new { merchantId, since = from, until = to }, cancellationToken))
            {
                Add(hours, c.hour, c.total, c.succeeded);
                Add(durations, (c.endpoint_id, c.duration_ms), c.total, c.succeeded);
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
    /// The merchant's attempts in [<c>@since</c>, <c>@until</c>) counted by hour, endpoint and
    /// duration (whole milliseconds, so few distinct values): each endpoint's nearest-rank
    /// percentiles (rank ceil(p/100 * n)) are read from that histogram, as a window function ranking
    /// every attempt took twice as long as the counting.
    /// </summary>
    private async Task<IReadOnlyList<HourDurationRow>> CountAttemptsAsync(DbConnection connection, DbTransaction? transaction, object parameters, CancellationToken cancellationToken)
    {
        var source = await MerchantAttemptsSourceAsync(connection, transaction, parameters, cancellationToken);
        // Times are milliseconds since the epoch in both databases, so integer division buckets by hour alike.
        return (await connection.QueryAsync<HourDurationRow>(new CommandDefinition(
            $"""
            SELECT a.started_at / {HourMs} AS hour, n.endpoint_id, a.duration_ms, COUNT(*) AS total, SUM(CASE WHEN a.succeeded THEN 1 ELSE 0 END) AS succeeded
            {source}
            GROUP BY a.started_at / {HourMs}, n.endpoint_id, a.duration_ms
            """, parameters, transaction, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Keeps the figures of each of the merchant's hours in [<paramref name="first"/>,
    /// <paramref name="end"/>) (all settled) not kept yet, an hour per transaction so that a
    /// database with one writer is held for one hour's attempts at a time. The hour is counted
    /// inside the transaction that keeps it, after <see cref="KeptHoursLock"/>, so that an erasure
    /// or a purge either sees the figures and deletes them or goes before and is seen; of two nodes
    /// keeping one hour at once, the first to insert its row keeps it, and the other writes nothing.
    /// </summary>
    private async Task KeepHoursAsync(string merchantId, long first, long end, CancellationToken cancellationToken)
    {
        HashSet<long> kept;
        await using (var connection = await OpenAsync(cancellationToken))
        {
            kept = (await connection.QueryAsync<long>(Read(
                "SELECT hour FROM attempt_hours WHERE merchant_id = @merchantId AND hour >= @first AND hour < @end",
                new { merchantId, first, end }, cancellationToken))).ToHashSet();
        }
        for (var hour = first; hour < end; hour++)
        {
            if (kept.Contains(hour))
            {
                continue;
            }
            await using var scope = await BeginWriteAsync(cancellationToken);
            if (KeptHoursLock is { } locks)
            {
                await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
            }
            var counts = await CountAttemptsAsync(scope.Connection, scope.Transaction,
                new { merchantId, since = hour * HourMs, until = (hour + 1) * HourMs }, cancellationToken);
            var inserted = await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO attempt_hours (merchant_id, hour, total, succeeded) VALUES (@merchantId, @hour, @total, @succeeded) ON CONFLICT DO NOTHING",
                new { merchantId, hour, total = (int)counts.Sum(c => c.total), succeeded = (int)counts.Sum(c => c.succeeded) }, cancellationToken));
            if (inserted == 0)
            {
                continue;
            }
            var rows = new RowSet(("merchant_id", DbType.String), ("hour", DbType.Int64), ("endpoint_id", DbType.String),
                ("duration_ms", DbType.Int32), ("total", DbType.Int32), ("succeeded", DbType.Int32));
            foreach (var c in counts)
            {
                rows.Add(merchantId, hour, c.endpoint_id, (int)c.duration_ms, (int)c.total, (int)c.succeeded);
            }
            await InsertRowsAsync(scope, "attempt_hour_durations", rows, cancellationToken);
            await scope.CommitAsync(cancellationToken);
        }
    }

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
