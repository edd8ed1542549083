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
    /// The statements that erase a merchant's notifications and their attempts (parameter
    /// <c>@merchantId</c>), in order. With one writer at a time, attempts go first (their key
    /// refers to the notification); where writers run at once, a store deletes the notifications
    /// first and then the attempts of those it deleted, in a statement of its own, so that an
    /// attempt another transaction was recording meanwhile is either seen and deleted, or finds its
    /// notification gone and writes nothing.
    /// </summary>
    protected virtual IReadOnlyList<string> EraseNotificationsSql { get; } =
    [
        "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications WHERE merchant_id = @merchantId)",
        "DELETE FROM notifications WHERE merchant_id = @merchantId",
    ];

    public async Task<bool> EraseMerchantDataAsync(string merchantId, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var exists = await scope.Connection.ExecuteScalarAsync<long>(scope.Command(
            "SELECT COUNT(*) FROM merchants WHERE id = @merchantId", new { merchantId }, cancellationToken));
        if (exists == 0)
        {
            return false;
        }
        foreach (var sql in EraseNotificationsSql.Concat(
        [
            "DELETE FROM idempotency_keys WHERE merchant_id = @merchantId",
            "DELETE FROM events WHERE merchant_id = @merchantId",
            "DELETE FROM entities WHERE merchant_id = @merchantId",
        ]))
        {
            await scope.Connection.ExecuteAsync(scope.Command(sql, new { merchantId }, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
        return true;
    }
}
