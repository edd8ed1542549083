using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    private const string ResendColumns = "id, merchant_id, notification_ids, stop_at_failure, done, created_at, only_failed";

    /// <summary>
    /// What follows the choice of resends to claim, so that two nodes claiming at once take
    /// different ones: nothing where one writer runs at a time.
    /// </summary>
    protected virtual string SkipLockedForClaim => "";

    /// <summary>
    /// What a recover's keeping of its resends begins with so that, on every node, it is the only one
    /// of its merchant's between its reading of what waits and its commit: nothing where one writer
    /// runs at a time (a write transaction is alone already).
    /// </summary>
    protected virtual string? LockMerchantResendsSql => null;

    // Kept for good before the caller is told they are queued; the rest (who owns them, how far a
    // run got, forgetting them) only decides who sends what, and if lost, one is sent again.
    public async Task AddResendsAsync(IReadOnlyList<ResendRequest> requests, string owner, DateTimeOffset ownedUntil, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return;
        }
        await using var scope = await BeginWriteAsync(cancellationToken);
        await InsertResendsAsync(scope, requests, owner, ownedUntil, cancellationToken);
        await scope.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ResendRequest>> AddResendsNotWaitingAsync(string merchantId, IReadOnlyList<ResendRequest> requests, string owner, DateTimeOffset ownedUntil, IReadOnlySet<string>? underWayBefore = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Any(r => r.MerchantId != merchantId))
        {
            throw new ArgumentException($"every request must be {merchantId}'s", nameof(requests));
        }
        if (requests.Count == 0)
        {
            return [];
        }
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (LockMerchantResendsSql is { } lockSql)
        {
            await scope.Connection.ExecuteAsync(scope.Command(lockSql, new { merchantId }, cancellationToken));
        }
        // Read after the lock: what a recover that held it before committed is seen.
        var waiting = await WaitingAsync(scope.Connection, scope.Command(WaitingSql, new { merchantId }, cancellationToken), underWayBefore);
        var kept = requests
            .Select(r => r with { NotificationIds = r.NotificationIds.Where(id => !waiting.Contains(id)).ToList() })
            .Where(r => r.NotificationIds.Count > 0)
            .ToList();
        await InsertResendsAsync(scope, kept, owner, ownedUntil, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return kept;
    }

    private static async Task InsertResendsAsync(WriteScope scope, IReadOnlyList<ResendRequest> requests, string owner, DateTimeOffset ownedUntil, CancellationToken cancellationToken)
    {
        if (requests.Count == 0)
        {
            return;
        }
        await scope.Connection.ExecuteAsync(scope.Command(
            $"INSERT INTO resends ({ResendColumns}, owner, owned_until) VALUES (@id, @merchant_id, @notification_ids, @stop_at_failure, @done, @created_at, @only_failed, @owner, @owned_until)",
            requests.Select(r => new
            {
                id = r.Id,
                merchant_id = r.MerchantId,
                notification_ids = string.Join(' ', r.NotificationIds),
                stop_at_failure = r.StopAtFailure ? 1L : 0L,
                done = (long)r.Done,
                created_at = Time.Ms(r.CreatedAt),
                only_failed = r.OnlyFailed ? 1L : 0L,
                owner,
                owned_until = Time.Ms(ownedUntil),
            }).ToList(),
            cancellationToken));
    }

    private const string WaitingSql = "SELECT id, notification_ids, done, under_way, stop_at_failure FROM resends WHERE merchant_id = @merchantId";

    public async Task<IReadOnlySet<string>> ResendingAsync(string merchantId, IReadOnlySet<string>? underWayBefore = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await WaitingAsync(connection, Read(WaitingSql, new { merchantId }, cancellationToken), underWayBefore);
    }

    public async Task<IReadOnlySet<string>> ResendsUnderWayAsync(string merchantId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return (await connection.QueryAsync<string>(Read("SELECT id FROM resends WHERE merchant_id = @merchantId AND under_way = 1", new { merchantId }, cancellationToken)))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The notifications the kept resends <paramref name="command"/> reads have yet to send: those
    /// past how far each got, less the one whose attempt was under way already in
    /// <paramref name="underWayBefore"/> (it is no attempt still to come), and for a run that stops
    /// at its first failure, what follows it too (the run stops there should that attempt fail).
    /// </summary>
    private static async Task<HashSet<string>> WaitingAsync(System.Data.Common.DbConnection connection, CommandDefinition command, IReadOnlySet<string>? underWayBefore)
    {
        var rows = await connection.QueryAsync<(string Id, string Ids, long Done, long UnderWay, long StopAtFailure)>(command);
        var waiting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, ids, done, underWay, stopAtFailure) in rows)
        {
            if (underWay != 0 && underWayBefore?.Contains(id) == true)
            {
                if (stopAtFailure == 0)
                {
                    waiting.UnionWith(ids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip((int)done + 1));
                }
                continue;
            }
            waiting.UnionWith(ids.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip((int)done));
        }
        return waiting;
    }

    public async Task<IReadOnlyList<ResendRequest>> ClaimResendsAsync(string owner, DateTimeOffset now, DateTimeOffset until, int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0)
        {
            return [];
        }
        // Nearly always nothing is free to take: a read says so without taking a write.
        await using (var connection = await OpenAsync(cancellationToken))
        {
            if (await connection.ExecuteScalarAsync<string?>(Read("SELECT id FROM resends WHERE owned_until <= @now LIMIT 1", new { now = Time.Ms(now) }, cancellationToken)) is null)
            {
                return [];
            }
        }
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        var rows = (await scope.Connection.QueryAsync<ResendRow>(scope.Command(
            $"""
            UPDATE resends SET owner = @owner, owned_until = @until, under_way = 0
            WHERE id IN (
              SELECT id FROM resends WHERE owned_until <= @now
              ORDER BY created_at, id LIMIT @limit{SkipLockedForClaim})
            RETURNING {ResendColumns}
            """,
            new { owner, until = Time.Ms(until), now = Time.Ms(now), limit }, cancellationToken))).AsList();
        await scope.CommitAsync(cancellationToken);
        return rows.OrderBy(r => r.created_at).ThenBy(r => r.id, StringComparer.Ordinal).Select(r => r.ToModel()).ToList();
    }

    public async Task<IReadOnlyList<string>> RenewResendsAsync(string owner, IReadOnlyCollection<string> ids, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var renewed = new List<string>(ids.Count);
        if (ids.Count == 0)
        {
            return renewed;
        }
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        foreach (var chunk in ids.Chunk(500))
        {
            var parameters = new DynamicParameters(new { owner, until = Time.Ms(until) });
            renewed.AddRange(await scope.Connection.QueryAsync<string>(scope.Command(
                $"UPDATE resends SET owned_until = @until WHERE owner = @owner AND id IN ({InList(parameters, "r", chunk)}) RETURNING id",
                parameters, cancellationToken)));
        }
        await scope.CommitAsync(cancellationToken);
        return renewed;
    }

    public async Task<bool> AdvanceResendAsync(string id, string owner, int done, CancellationToken cancellationToken = default) =>
        await WriteResendsAsync("UPDATE resends SET done = @done, under_way = 0 WHERE id = @id AND owner = @owner", new { id, owner, done = (long)done }, cancellationToken) == 1;

    public async Task<bool> MarkResendUnderWayAsync(string id, string owner, int done, CancellationToken cancellationToken = default) =>
        await WriteResendsAsync("UPDATE resends SET done = @done, under_way = 1 WHERE id = @id AND owner = @owner", new { id, owner, done = (long)done }, cancellationToken) == 1;

    public async Task<bool> RemoveResendAsync(string id, string owner, CancellationToken cancellationToken = default) =>
        await WriteResendsAsync("DELETE FROM resends WHERE id = @id AND owner = @owner", new { id, owner }, cancellationToken) == 1;

    public Task ReleaseResendsAsync(string owner, CancellationToken cancellationToken = default) =>
        WriteResendsAsync("UPDATE resends SET owner = NULL, owned_until = 0, under_way = 0 WHERE owner = @owner", new { owner }, cancellationToken);

    /// <summary>Runs one statement in a write of its own; answers how many rows it changed.</summary>
    private async Task<int> WriteResendsAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        var changed = await scope.Connection.ExecuteAsync(scope.Command(sql, parameters, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return changed;
    }

    private sealed class ResendRow
    {
        public string id { get; set; } = "";
        public string merchant_id { get; set; } = "";
        public string notification_ids { get; set; } = "";
        public long stop_at_failure { get; set; }
        public long done { get; set; }
        public long created_at { get; set; }
        public long only_failed { get; set; }

        public ResendRequest ToModel() =>
            new(id, merchant_id, notification_ids.Split(' ', StringSplitOptions.RemoveEmptyEntries), stop_at_failure != 0, (int)done, Time.At(created_at), only_failed != 0);
    }
}
