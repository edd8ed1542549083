using System.Data;
using System.Data.Common;
using Dapper;
using Herald.Endpoints;
using Herald.Retry;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    /// <summary>
    /// A notification's payload, read from its row in <c>notifications</c>. A payload that is its
    /// event's snapshot, character for character (the transaction format's), is not stored twice: the
    /// row keeps an empty text (never a payload: each is a JSON object) and the snapshot stands in.
    /// </summary>
    protected const string PayloadColumn =
        "COALESCE(NULLIF(notifications.payload, ''), (SELECT events.snapshot FROM events WHERE events.id = notifications.event_id)) AS payload";

    /// <summary>The columns a claim returns, with the endpoint joined in by <see cref="LoadClaimsAsync"/>.</summary>
    protected const string ClaimReturning = $"id, merchant_id, event_id, endpoint_id, {PayloadColumn}, status, attempt_count, failures, created_at, lease_token, trace_parent";

    /// <summary>
    /// The statement that takes due work: it must set <c>leased_until</c> to <c>@lease_until</c> and
    /// <c>lease_token</c> to <c>@token</c> on at most <c>@limit</c> pending rows due at <c>@now</c> (and
    /// not leased past it), earliest due first, whose endpoint is enabled, and return <see cref="ClaimReturning"/>. For an ordered endpoint it must leave
    /// a notification while an earlier version of the same entity is still pending for that endpoint
    /// (being tried, or waiting for a retry).
    /// </summary>
    protected abstract string ClaimSql { get; }

    /// <summary>
    /// Runs <see cref="ClaimSql"/> in the scope's transaction a store's own way, answering the names
    /// of the columns it returned (<see cref="ClaimReturning"/>'s) and each row's values in their
    /// order (text, 64-bit integers or null); null when the store runs it as any other statement.
    /// SQLite steps a statement prepared once on its writer's connection: planning the claim took
    /// longer than running it for the few rows a claim takes.
    /// </summary>
    protected virtual Task<(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)?> TakeDueAsync(
        WriteScope scope, long now, long leaseUntil, string token, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<string>, IReadOnlyList<object?[]>)?>(null);

    public async Task<IReadOnlyList<ClaimedNotification>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        var token = Guid.NewGuid().ToString("N");
        var claimed = await TakeDueAsync(scope, Time.Ms(now), Time.Ms(now + lease), token, limit, cancellationToken) is { } taken
            ? taken.Rows.Select(values => ClaimRow.From(taken.Columns, values)).ToList()
            : (await scope.Connection.QueryAsync<ClaimRow>(scope.Command(ClaimSql,
                new { now = Time.Ms(now), lease_until = Time.Ms(now + lease), token, limit }, cancellationToken))).AsList();
        var result = await LoadClaimsAsync(scope, claimed, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Joins the endpoints (and the secrets signing at <paramref name="now"/>) into claimed rows: the
    /// one place a claim takes its endpoint's settings. Rows <paramref name="keep"/> refuses (given the
    /// endpoint as it is now and the row) are left out, as are rows whose endpoint is gone.
    /// </summary>
    private async Task<IReadOnlyList<ClaimedNotification>> LoadClaimsAsync(WriteScope? scope, List<ClaimRow> claimed, DateTimeOffset now, CancellationToken cancellationToken,
        Func<ValueTask<DbConnection>>? open = null, Func<DeliveryTarget, ClaimRow, bool>? keep = null)
    {
        if (claimed.Count == 0)
        {
            return [];
        }
        var targets = await DeliveryTargetsAsync(scope is null ? open! : () => ValueTask.FromResult(scope.Connection), scope?.Transaction,
            claimed.Select(c => c.endpoint_id), now, cancellationToken);
        var at = Time.Ms(now);
        var result = new List<ClaimedNotification>(claimed.Count);
        foreach (var c in claimed)
        {
            if (!targets.TryGetValue(c.endpoint_id, out var target) || (keep is not null && !keep(target, c)))
            {
                continue;
            }
            var e = target.Endpoint;
            c.url = e.url;
            c.format = e.format;
            c.success_rule = e.success_rule;
            c.retry_policy = e.retry_policy;
            c.timeout_seconds = e.timeout_seconds;
            c.max_concurrency = e.max_concurrency;
            c.rate_limit = e.rate_limit;
            c.endpoint_headers = target.Headers;
            // As it was when taken: a claim refreshed from memory keeps its own.
            c.endpoint_ordered = c.endpoint_ordered || e.ordered;
            result.Add(c.ToModel(target.SecretsAt(at)));
        }
        return result;
    }

    public async Task<IReadOnlyList<ClaimedNotification>> LoadLeasedAsync(IReadOnlyList<LeasedNotification> leased, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leased);
        if (leased.Count == 0)
        {
            return [];
        }
        return await WithConnectionIfNeededAsync(open => LoadClaimsAsync(null, [.. leased.Select(ClaimRow.Of)], now, cancellationToken, open, TakesHandOffs), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with a way to open a connection that opens one only when asked
    /// (usually every endpoint is known already, and none is), and closes it afterwards.
    /// </summary>
    private async Task<T> WithConnectionIfNeededAsync<T>(Func<Func<ValueTask<DbConnection>>, Task<T>> work, CancellationToken cancellationToken)
    {
        DbConnection? connection = null;
        try
        {
            return await work(async () => connection ??= await OpenAsync(cancellationToken));
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public async Task<IReadOnlyList<ClaimedNotification>> RefreshClaimsAsync(IReadOnlyList<ClaimedNotification> claimed, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        if (claimed.Count == 0)
        {
            return [];
        }
        // An endpoint made ordered since may have several versions of one entity in hand here: they
        // go back to the queue, whose claims take one at a time.
        return await WithConnectionIfNeededAsync(open => LoadClaimsAsync(null, [.. claimed.Select(ClaimRow.Of)], now, cancellationToken, open,
            (target, row) => target.Endpoint.enabled && !target.Deleted && (!target.Endpoint.ordered || row.endpoint_ordered)), cancellationToken);
    }

    /// <summary>Claims whose endpoint may take work handed to it: enabled, not ordered, not deleted.</summary>
    private static bool TakesHandOffs(DeliveryTarget target, ClaimRow row) => target.TakesHandOffs;

    /// <summary>Claims whose endpoint is not deleted.</summary>
    private static bool Live(DeliveryTarget target, ClaimRow row) => !target.Deleted;

    public async Task<ClaimedNotification?> LoadForResendAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClaimRow>(Read(
            $"SELECT id, merchant_id, event_id, endpoint_id, {PayloadColumn}, status, attempt_count, failures, created_at, NULL AS lease_token, trace_parent FROM notifications WHERE id = @id AND merchant_id = @merchantId",
            new { id, merchantId }, cancellationToken));
        if (row is null)
        {
            return null;
        }
        var loaded = await LoadClaimsAsync(null, [row], now, cancellationToken, () => ValueTask.FromResult<DbConnection>(connection), Live);
        return loaded.Count == 0 ? null : loaded[0];
    }

    public async Task<bool> RecordScheduledAttemptAsync(AttemptOutcome outcome, CancellationToken cancellationToken = default) =>
        (await RecordScheduledAttemptsAsync([outcome], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> RecordScheduledAttemptsAsync(IReadOnlyList<AttemptOutcome> outcomes, CancellationToken cancellationToken = default) =>
        (await WriteBatchAsync([], outcomes, null, cancellationToken)).Attempts;

    /// <summary>
    /// A batch of attempt outcomes, its rows made before the write begins; an attempt whose lease
    /// was lost is left out when it is written.
    /// </summary>
    private sealed class AttemptWrite
    {
        private readonly Dictionary<string, int> _index;
        private readonly RowSet _moves = NewMoveRows();
        private readonly RowSet _attempts = NewAttemptRows();

        public AttemptWrite(IReadOnlyList<AttemptOutcome> outcomes)
        {
            _index = new Dictionary<string, int>(outcomes.Count, StringComparer.Ordinal);
            for (var i = 0; i < outcomes.Count; i++)
            {
                var outcome = outcomes[i];
                var a = outcome.Attempt;
                _index[a.NotificationId] = i;
                _moves.Add(a.NotificationId, outcome.LeaseToken, outcome.Status, Time.Ms(outcome.NextAttemptAt),
                    outcome.CountsAsFailure ? 1 : 0, Time.Ms(a.StartedAt), a.StatusCode, a.Error);
                AddAttempt(_attempts, a);
            }
        }

        public RowSet Moves => _moves;

        public RowSet Attempts => _attempts;

        public async Task<bool[]> WriteAsync(RelationalStore store, WriteScope scope, CancellationToken cancellationToken) =>
            Answer(await store.RecordAttemptsAsync(scope, _moves, _attempts, cancellationToken));

        /// <summary>Whether each outcome was recorded, given the notifications that <paramref name="moved"/>.</summary>
        public bool[] Answer(IEnumerable<string> moved)
        {
            var recorded = new bool[_moves.Count];
            foreach (var id in moved)
            {
                recorded[_index[id]] = true;
            }
            return recorded;
        }
    }

    /// <summary>An attempt's outcome applied to its notification: the id, the lease token it was claimed with, and where it leaves the notification.</summary>
    private static RowSet NewMoveRows() => new(
        ("id", DbType.String), ("token", DbType.String), ("status", DbType.String), ("next_attempt_at", DbType.Int64),
        ("failure", DbType.Int32), ("at", DbType.Int64), ("status_code", DbType.Int32), ("error", DbType.String));

    /// <summary>Whether the notification's endpoint is disabled (in an <c>UPDATE notifications</c>): what is left pending for it is parked.</summary>
    private const string EndpointDisabled = "NOT (SELECT e.enabled FROM endpoints e WHERE e.id = notifications.endpoint_id)";

    /// <summary>
    /// The assignments that move a notification on after an attempt, given how to name each column of
    /// <see cref="NewMoveRows"/> (numbered from 1).
    /// </summary>
    protected static string MoveAssignments(Func<int, string> column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return $"""
            status = {column(3)}, next_attempt_at = CASE WHEN {column(3)} = 'pending' AND {EndpointDisabled} THEN NULL ELSE {column(4)} END,
            lease_token = NULL, leased_until = NULL,
            attempt_count = attempt_count + 1, failures = failures + {column(5)},
            last_attempt_at = {column(6)}, last_status_code = {column(7)}, last_error = {column(8)},
            succeeded_at = CASE WHEN {column(3)} = 'succeeded' THEN COALESCE(succeeded_at, {column(6)}) ELSE succeeded_at END
            """;
    }

    /// <summary>
    /// Moves each notification of <paramref name="moves"/> (rows of <see cref="NewMoveRows"/>) on, but only
    /// where the lease is still the one it was claimed with, and inserts the attempt (row <c>i</c> of
    /// <paramref name="attempts"/> for row <c>i</c> of the moves) of each one moved: a lost lease writes
    /// nothing, as the attempt belongs to whoever holds the claim now. Answers the ids moved.
    /// </summary>
    protected abstract Task<IReadOnlyCollection<string>> RecordAttemptsAsync(WriteScope scope, RowSet moves, RowSet attempts, CancellationToken cancellationToken);

    public async Task<ResendLease> LeaseForResendAsync(string merchantId, string id, string token, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        var parameters = new { id, merchantId, token, now = Time.Ms(now), until = Time.Ms(until) };
        ClaimRow? row;
        // Each statement sees what was committed before it began: a lease let go between the two
        // (the attempt under way recorded) is taken at the next turn, not mistaken for a row gone.
        for (var turn = 0; ; turn++)
        {
            row = await scope.Connection.QuerySingleOrDefaultAsync<ClaimRow>(scope.Command(
                $"UPDATE notifications SET leased_until = @until, lease_token = @token WHERE id = @id AND merchant_id = @merchantId AND (leased_until IS NULL OR leased_until <= @now) RETURNING {ClaimReturning}",
                parameters, cancellationToken));
            if (row is not null)
            {
                break;
            }
            // Not taken: held by an attempt under way (until when), or gone (no row).
            var heldUntil = await scope.Connection.QuerySingleOrDefaultAsync<long?>(scope.Command(
                "SELECT COALESCE(leased_until, 0) FROM notifications WHERE id = @id AND merchant_id = @merchantId", parameters, cancellationToken));
            if (heldUntil is null)
            {
                return ResendLease.Gone;
            }
            if (heldUntil > Time.Ms(now))
            {
                return new ResendLease(null, Time.At(heldUntil.Value));
            }
            if (turn == 2)
            {
                // Taken and let go again and again meanwhile: asked again shortly.
                return new ResendLease(null, now);
            }
        }
        var loaded = await LoadClaimsAsync(scope, [row], now, cancellationToken, keep: Live);
        if (loaded.Count == 0)
        {
            // Its endpoint was deleted: nothing is sent, and nothing is leased (the transaction is undone).
            return ResendLease.Gone;
        }
        // Not cancelled once asked: a lease committed unbeknown to its taker would hold the
        // notification until it ran out.
        await scope.CommitAsync(CancellationToken.None);
        return new ResendLease(loaded[0], null);
    }

    public async Task ReleaseResendLeaseAsync(string id, string token, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE notifications SET leased_until = NULL, lease_token = NULL WHERE id = @id AND lease_token = @token", new { id, token }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task RecordManualAttemptAsync(Attempt attempt, string? leaseToken = null, CancellationToken cancellationToken = default, ResendStep? step = null)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        await using var scope = await BeginWriteAsync(cancellationToken);
        var updated = await scope.Connection.ExecuteAsync(scope.Command(
            """
            UPDATE notifications SET
              attempt_count = attempt_count + 1,
              last_attempt_at = @at, last_status_code = @status_code, last_error = @error,
              status = CASE WHEN @ok = 1 THEN 'succeeded' ELSE status END,
              next_attempt_at = CASE WHEN @ok = 1 THEN NULL ELSE next_attempt_at END,
              lease_token = CASE WHEN @ok = 1 OR lease_token = @token THEN NULL ELSE lease_token END,
              leased_until = CASE WHEN @ok = 1 OR lease_token = @token THEN NULL ELSE leased_until END,
              succeeded_at = CASE WHEN @ok = 1 THEN COALESCE(succeeded_at, @at) ELSE succeeded_at END
            WHERE id = @id
            """,
            new
            {
                id = attempt.NotificationId,
                ok = attempt.Succeeded ? 1 : 0,
                at = Time.Ms(attempt.StartedAt),
                status_code = attempt.StatusCode,
                error = attempt.Error,
                token = leaseToken,
            }, cancellationToken));
        if (updated == 0)
        {
            // The notification went (retention, erasure) while the attempt ran: nothing to attach it to.
            return;
        }
        await InsertAttemptAsync(scope, attempt, cancellationToken);
        if (attempt.Succeeded)
        {
            // The endpoint answered: its days of nothing but failures (which disable it) start over,
            // in the attempt's own transaction.
            await scope.Connection.ExecuteAsync(scope.Command(
                "UPDATE endpoints SET failing_since = NULL WHERE id = (SELECT endpoint_id FROM notifications WHERE id = @id) AND failing_since IS NOT NULL",
                new { id = attempt.NotificationId }, cancellationToken));
        }
        if (step is not null)
        {
            await scope.Connection.ExecuteAsync(scope.Command(step.Ends(attempt.Succeeded)
                    ? "DELETE FROM resends WHERE id = @id AND owner = @owner"
                    : "UPDATE resends SET done = @done, under_way = 0 WHERE id = @id AND owner = @owner",
                new { id = step.ResendId, owner = step.Owner, done = (long)step.Index + 1 }, cancellationToken));
        }
        await scope.CommitAsync(cancellationToken);
    }

    private Task InsertAttemptAsync(WriteScope scope, Attempt attempt, CancellationToken cancellationToken)
    {
        var rows = NewAttemptRows();
        AddAttempt(rows, attempt);
        return InsertRowsAsync(scope, "attempts", rows, cancellationToken);
    }

    private static RowSet NewAttemptRows() => new(
        ("id", DbType.String), ("notification_id", DbType.String), ("number", DbType.Int32), ("trigger", DbType.String),
        ("started_at", DbType.Int64), ("duration_ms", DbType.Int32), ("status_code", DbType.Int32), ("succeeded", DbType.Boolean),
        ("error", DbType.String), ("response_excerpt", DbType.String));

    private static void AddAttempt(RowSet rows, Attempt a) =>
        rows.Add(a.Id, a.NotificationId, a.Number, a.Trigger, Time.Ms(a.StartedAt), a.DurationMs, a.StatusCode, a.Succeeded, a.Error, a.ResponseExcerpt);

    public Task ReleaseAsync(IReadOnlyCollection<(string Id, string LeaseToken)> claims, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        return ReleaseAsync(claims.Select(c => (c.Id, c.LeaseToken, now)).ToList(), cancellationToken);
    }

    public async Task ReleaseAsync(IReadOnlyCollection<(string Id, string LeaseToken, DateTimeOffset DueAt)> claims, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count == 0)
        {
            return;
        }
        await using var scope = await BeginLeaseWriteAsync(cancellationToken);
        if (LockedForPurge.Length > 0)
        {
            // Where writers run at once, the rows are held first in the order of their ids, as a
            // merchant's erasure and the purge hold theirs: updated one by one in the order the
            // claims came, a release and an erasure each waited for a row the other held (an
            // erasure undone four times over, and refused). The table is taken as a writer takes
            // it before that: a row lock alone lets an erasure's last transaction take the table
            // meanwhile, which then waits for these rows while the update waits for the table.
            if (PurgeTableLocks("notifications", "attempts") is { } locks)
            {
                await scope.Connection.ExecuteAsync(scope.Command(locks, null, cancellationToken));
            }
            await scope.Connection.ExecuteAsync(scope.Command(
                $"SELECT 1 FROM notifications WHERE id = ANY(@ids) ORDER BY id{LockedForPurge}",
                new { ids = claims.Select(c => c.Id).ToArray() }, cancellationToken));
        }
        await scope.Connection.ExecuteAsync(scope.Command(
            $"UPDATE notifications SET next_attempt_at = CASE WHEN {EndpointDisabled} THEN NULL ELSE @now END, leased_until = NULL, lease_token = NULL WHERE id = @id AND lease_token = @token AND status = 'pending'",
            claims.Select(c => new { id = c.Id, token = c.LeaseToken, now = Time.Ms(c.DueAt) }), cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }
}
