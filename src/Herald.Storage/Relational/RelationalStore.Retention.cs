using Dapper;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    private const string PurgeBatch =
        "SELECT id FROM notifications WHERE created_at < @cutoff AND status <> 'pending' ORDER BY id LIMIT @batch";

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, int batch, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var parameters = new { cutoff = Time.Ms(cutoff), batch };
        // Both statements pick the same batch: deleting attempts leaves the notifications as they were.
        await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM attempts WHERE notification_id IN ({PurgeBatch})", parameters, cancellationToken));
        var deleted = await scope.Connection.ExecuteAsync(scope.Command($"DELETE FROM notifications WHERE id IN ({PurgeBatch})", parameters, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return deleted;
    }

    /// <summary>
    /// Where writers run at once: locks the merchant's notifications before an erase deletes their
    /// attempts, so that an attempt recorded by a transaction still open is committed (and seen by
    /// the delete) or finds its notification gone and writes nothing; without it such an attempt
    /// would outlive its notification. Null for a store with one writer at a time.
    /// </summary>
    protected virtual string? LockNotificationsOfMerchantSql => null;

    public async Task<bool> EraseMerchantDataAsync(string merchantId, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var exists = await scope.Connection.ExecuteScalarAsync<long>(scope.Command(
            "SELECT COUNT(*) FROM merchants WHERE id = @merchantId", new { merchantId }, cancellationToken));
        if (exists == 0)
        {
            return false;
        }
        if (LockNotificationsOfMerchantSql is { } lockSql)
        {
            await scope.Connection.ExecuteAsync(scope.Command(lockSql, new { merchantId }, cancellationToken));
        }
        foreach (var sql in new[]
        {
            "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications WHERE merchant_id = @merchantId)",
            "DELETE FROM notifications WHERE merchant_id = @merchantId",
            "DELETE FROM idempotency_keys WHERE merchant_id = @merchantId",
            "DELETE FROM events WHERE merchant_id = @merchantId",
            "DELETE FROM entities WHERE merchant_id = @merchantId",
        })
        {
            await scope.Connection.ExecuteAsync(scope.Command(sql, new { merchantId }, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return true;
    }
}
