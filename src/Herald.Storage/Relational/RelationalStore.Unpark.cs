using Dapper;

namespace Herald.Storage.Relational;

// Notifications held while their endpoint is paused or disabled, and made due again once it is enabled.
public abstract partial class RelationalStore
{
    /// <summary>
    /// A disabled endpoint's pending notifications leave the due index (no time to be tried) until
    /// it is enabled again, so that claims need not step over them; <see cref="UnparkAsync"/> brings them back.
    /// </summary>
    private static Task ParkAsync(WriteScope scope, string endpointId, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE notifications SET next_attempt_at = NULL WHERE endpoint_id = @endpointId AND status = 'pending' AND next_attempt_at IS NOT NULL",
            new { endpointId }, cancellationToken));

    /// <summary>
    /// The ids of the parked notifications of enabled endpoints (<c>e</c>), at most <c>@limit</c>. It
    /// must go from the enabled endpoints into the index of parked notifications
    /// (<c>notifications_parked</c>): a disabled endpoint's backlog, however long, is never read here.
    /// </summary>
    protected abstract string UnparkableSql { get; }

    /// <summary>
    /// How long after an endpoint's deletion a notification recorded for it is still looked for: a
    /// change rendered while the endpoint was listed can commit after the delete marked the
    /// endpoint's pending work dead (on another node, before the delete's news reached it).
    /// </summary>
    private static readonly TimeSpan OrphanWindow = TimeSpan.FromMinutes(10);

    // What a delete leaves of its endpoint's pending notifications, and of those committed just after it.
    private const string KilledByDelete =
        "UPDATE notifications SET status = 'dead', next_attempt_at = NULL, leased_until = NULL, lease_token = NULL, last_error = 'endpoint deleted'";

    /// <summary>
    /// How long after an endpoint's deletion an attempt that was under way then is waited for: an
    /// attempt ends within its endpoint's timeout (at most 60 s), and its outcome is recorded, the
    /// notification succeeded or failed as it went. After this, work still leased (its node lost)
    /// dies whatever its lease says.
    /// </summary>
    private static readonly TimeSpan AttemptUnderWayWindow = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Pending notifications of endpoints deleted since <c>@since</c> (at most <c>@limit</c>),
    /// read from the few such endpoints into the endpoint index; one leased at <c>@now</c> (an
    /// attempt under way) is left to its attempt while its endpoint was deleted after <c>@settled</c>.
    /// </summary>
    protected abstract string OrphanedSql { get; }

    public async Task<int> UnparkAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        // Nearly always there is nothing to do: a read says so without taking a write.
        bool unparkable, orphaned;
        var since = Time.Ms(now - OrphanWindow);
        var settled = Time.Ms(now - AttemptUnderWayWindow);
        var at = Time.Ms(now);
        await using (var connection = await OpenAsync(cancellationToken))
        {
            unparkable = await connection.ExecuteScalarAsync<string?>(Read($"{UnparkableSql} LIMIT @limit", new { limit = 1 }, cancellationToken)) is not null;
            orphaned = await connection.ExecuteScalarAsync<string?>(Read($"{OrphanedSql} LIMIT @limit", new { since, settled, now = at, limit = 1 }, cancellationToken)) is not null;
        }
        if (orphaned)
        {
            // Dead as the delete would have left them, had they been recorded just before it.
            await using var settle = await BeginWriteAsync(cancellationToken);
            await settle.Connection.ExecuteAsync(settle.Command(
                $"{KilledByDelete} WHERE id IN ({OrphanedSql} LIMIT @limit) AND status = 'pending'",
                new { since, settled, now = at, limit }, cancellationToken));
            await settle.CommitAsync(cancellationToken);
        }
        if (!unparkable)
        {
            return 0;
        }
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        var unparkSql = UnparkableSql;
        string? endpoints = null;
        if (LockEndpointsToUnparkSql is { } lockSql)
        {
            // Only the endpoints held here are unparked: none of them can be paused before this commits.
            var locked = (await scope.Connection.QueryAsync<string>(scope.Command(lockSql, null, cancellationToken))).AsList();
            if (locked.Count == 0)
            {
                await scope.CommitAsync(cancellationToken);
                return 0;
            }
            endpoints = string.Join(',', locked);
            unparkSql += " AND e.id = ANY(string_to_array(@endpoints, ','))";
        }
        // Checked again on the row itself: on PostgreSQL another node may unpark the same rows at
        // once, and an update that waited for its row lock sees the row as that node left it.
        // The retry schedule starts over with them: the failures before the pause count no more.
        var unparked = await scope.Connection.ExecuteAsync(scope.Command(
            $"UPDATE notifications SET next_attempt_at = @now, failures = 0 WHERE id IN ({unparkSql} LIMIT @limit) AND status = 'pending' AND next_attempt_at IS NULL",
            new { now = Time.Ms(now), limit, endpoints }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return unparked;
    }

    /// <summary>
    /// Where other nodes write endpoints at once (PostgreSQL): locks, until the unpark commits, the
    /// enabled endpoints that have parked work, and gives their ids. Without it, an endpoint paused
    /// on another node while the unpark runs has parked nothing (its work still parked then), and
    /// the unpark, going by the endpoint as last committed, makes that work due once the pause has
    /// committed: due work of a paused endpoint, which every claim steps over until it is resumed.
    /// A pause waits for the lock, and then parks what the unpark made due; an unpark that waits
    /// for a pause sees the endpoint disabled.
    /// </summary>
    protected virtual string? LockEndpointsToUnparkSql => null;
}
