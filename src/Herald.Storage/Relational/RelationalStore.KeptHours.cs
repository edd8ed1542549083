using System.Data;
using Dapper;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    /// <summary>
    /// Where writers run at once, what a transaction keeping an hour's figures takes before it
    /// checks the merchant's <c>attempt_hour_epochs</c>, so that a merchant's erasure (or a purge)
    /// deleting kept figures waits for it and deletes what it wrote, or goes first and is seen.
    /// Null where one writer runs at a time.
    /// </summary>
    protected virtual string? KeptHoursLock => null;

    /// <summary>Awaited with each hour a stats read keeps, once it is counted and before its figures are written: tests hold a read there.</summary>
    internal Func<DateTimeOffset, Task>? HourCounted { get; set; }

    /// <summary>
    /// How a merchant's erasure, and a purge of its notifications, end their insert into
    /// <c>attempt_hour_epochs</c>: moving the merchant's epoch on, so that a stats read that
    /// counted the attempts they delete before they did keeps nothing of them.
    /// </summary>
    private const string NextEpoch =
        "ON CONFLICT (merchant_id) DO UPDATE SET epoch = attempt_hour_epochs.epoch + 1";

    /// <summary>
    /// Keeps the figures of <paramref name="hours"/> (all settled), as the read counted them, an
    /// hour per transaction, the writer held only to write them. An erasure of the merchant and a
    /// purge of its notifications move its epoch on in the transaction that deletes their attempts:
    /// one that committed since the read took <paramref name="epoch"/> (before it counted) may have
    /// deleted attempts it counted, so nothing more is kept, and the next read counts what is left.
    /// Of two nodes keeping one hour at once, the first to insert its row keeps it, and the other
    /// writes nothing.
    /// </summary>
    private async Task KeepHoursAsync(string merchantId, long epoch, SortedDictionary<long, List<HourDurationRow>> hours, CancellationToken cancellationToken)
    {
        foreach (var (hour, counts) in hours)
        {
            if (HourCounted is { } counted)
            {
                await counted(Time.At(hour * HourMs));
            }
            await using var scope = await BeginWriteAsync(cancellationToken);
            if (KeptHoursLock is { } locks)
            {
                await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
            }
            if (await scope.Connection.ExecuteScalarAsync<long>(scope.Command(
                "SELECT COALESCE((SELECT epoch FROM attempt_hour_epochs WHERE merchant_id = @merchantId), 0)", new { merchantId }, cancellationToken)) != epoch)
            {
                return;
            }
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
}
