using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    /// <summary>The columns a claim returns, with the endpoint joined in by <see cref="LoadClaimsAsync"/>.</summary>
    protected const string ClaimReturning = "id, merchant_id, event_id, endpoint_id, payload, status, attempt_count, failures, created_at, lease_token, trace_parent";

    /// <summary>
    /// The claim condition of ordered endpoints: a notification waits while an earlier version of the
    /// same entity is still pending for the same endpoint (being tried, or waiting for a retry).
    /// </summary>
    protected const string OrderedGate = """
        (e.ordered = FALSE OR NOT EXISTS (
          SELECT 1 FROM notifications p
          WHERE p.endpoint_id = n.endpoint_id AND p.entity_id = n.entity_id
            AND p.status = 'pending' AND p.entity_version < n.entity_version))
        """;

    /// <summary>
    /// The statement that takes due work: it must move <c>next_attempt_at</c> to <c>@lease_until</c> and set
    /// <c>lease_token</c> to <c>@token</c> on at most <c>@limit</c> pending rows due at <c>@now</c> whose
    /// endpoint is enabled, and return <see cref="ClaimReturning"/>.
    /// </summary>
    protected abstract string ClaimSql { get; }

    public async Task<IReadOnlyList<ClaimedNotification>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var token = Guid.NewGuid().ToString("N");
        var claimed = (await scope.Connection.QueryAsync<ClaimRow>(scope.Command(ClaimSql,
            new { now = Time.Ms(now), lease_until = Time.Ms(now + lease), token, limit }, cancellationToken))).AsList();
        var result = await LoadClaimsAsync(scope, claimed, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<IReadOnlyList<ClaimedNotification>> LoadClaimsAsync(WriteScope? scope, List<ClaimRow> claimed, DateTimeOffset now, CancellationToken cancellationToken, System.Data.Common.DbConnection? connection = null)
    {
        if (claimed.Count == 0)
        {
            return [];
        }
        var db = scope?.Connection ?? connection!;
        var endpointIds = claimed.Select(c => c.endpoint_id).Distinct(StringComparer.Ordinal).ToArray();
        var endpoints = new Dictionary<string, EndpointRow>(StringComparer.Ordinal);
        foreach (var id in endpointIds)
        {
            var row = await db.QuerySingleAsync<EndpointRow>(new CommandDefinition(
                "SELECT id, url, format, success_rule, retry_policy, timeout_seconds, max_concurrency, rate_limit FROM endpoints WHERE id = @id",
                new { id }, scope?.Transaction, cancellationToken: cancellationToken));
            endpoints[id] = row;
        }
        var secrets = await LoadSecretsAsync(db, scope?.Transaction, endpointIds, now, cancellationToken);
        var result = new List<ClaimedNotification>(claimed.Count);
        foreach (var c in claimed)
        {
            var e = endpoints[c.endpoint_id];
            c.url = e.url;
            c.format = e.format;
            c.success_rule = e.success_rule;
            c.retry_policy = e.retry_policy;
            c.timeout_seconds = e.timeout_seconds;
            c.max_concurrency = e.max_concurrency;
            c.rate_limit = e.rate_limit;
            result.Add(c.ToModel(secrets.TryGetValue(c.endpoint_id, out var s) ? s : []));
        }
        return result;
    }

    public async Task<ClaimedNotification?> LoadForResendAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ClaimRow>(Read(
            "SELECT id, merchant_id, event_id, endpoint_id, payload, status, attempt_count, failures, created_at, NULL AS lease_token, trace_parent FROM notifications WHERE id = @id AND merchant_id = @merchantId",
            new { id, merchantId }, cancellationToken));
        if (row is null)
        {
            return null;
        }
        var loaded = await LoadClaimsAsync(null, [row], now, cancellationToken, connection);
        return loaded[0];
    }

    public async Task<bool> RecordScheduledAttemptAsync(AttemptOutcome outcome, CancellationToken cancellationToken = default) =>
        (await RecordScheduledAttemptsAsync([outcome], cancellationToken))[0];

    public async Task<IReadOnlyList<bool>> RecordScheduledAttemptsAsync(IReadOnlyList<AttemptOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var recorded = new bool[outcomes.Count];
        await using var scope = await BeginWriteAsync(cancellationToken);
        for (var i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            var a = outcome.Attempt;
            var updated = await scope.Connection.ExecuteAsync(scope.Command(
                """
                UPDATE notifications SET
                  status = @status, next_attempt_at = @next_attempt_at, lease_token = NULL,
                  attempt_count = attempt_count + 1, failures = failures + @failure,
                  last_attempt_at = @at, last_status_code = @status_code, last_error = @error,
                  succeeded_at = CASE WHEN @status = 'succeeded' THEN @at ELSE succeeded_at END
                WHERE id = @id AND lease_token = @token
                """,
                new
                {
                    id = a.NotificationId,
                    token = outcome.LeaseToken,
                    status = outcome.Status,
                    next_attempt_at = Time.Ms(outcome.NextAttemptAt),
                    failure = outcome.CountsAsFailure ? 1 : 0,
                    at = Time.Ms(a.StartedAt),
                    status_code = a.StatusCode,
                    error = a.Error,
                }, cancellationToken));
            // A lost lease writes nothing: the attempt belongs to whoever holds the claim now.
            if (updated == 1)
            {
                await InsertAttemptAsync(scope, a, cancellationToken);
                recorded[i] = true;
            }
        }
        await scope.CommitAsync(cancellationToken);
        return recorded;
    }

    public async Task RecordManualAttemptAsync(Attempt attempt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            """
            UPDATE notifications SET
              attempt_count = attempt_count + 1,
              last_attempt_at = @at, last_status_code = @status_code, last_error = @error,
              status = CASE WHEN @ok = 1 THEN 'succeeded' ELSE status END,
              next_attempt_at = CASE WHEN @ok = 1 THEN NULL ELSE next_attempt_at END,
              lease_token = CASE WHEN @ok = 1 THEN NULL ELSE lease_token END,
              succeeded_at = CASE WHEN @ok = 1 THEN @at ELSE succeeded_at END
            WHERE id = @id
            """,
            new
            {
                id = attempt.NotificationId,
                ok = attempt.Succeeded ? 1 : 0,
                at = Time.Ms(attempt.StartedAt),
                status_code = attempt.StatusCode,
                error = attempt.Error,
            }, cancellationToken));
        await InsertAttemptAsync(scope, attempt, cancellationToken);
        await scope.CommitAsync(cancellationToken);
    }

    private static Task InsertAttemptAsync(WriteScope scope, Attempt attempt, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO attempts (id, notification_id, number, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt) VALUES (@id, @notification_id, @number, @trigger, @started_at, @duration_ms, @status_code, @succeeded, @error, @response_excerpt)",
            AttemptRow.Parameters(attempt), cancellationToken));

    public async Task ReleaseAsync(IReadOnlyCollection<(string Id, string LeaseToken)> claims, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (claims.Count == 0)
        {
            return;
        }
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE notifications SET next_attempt_at = @now, lease_token = NULL WHERE id = @id AND lease_token = @token AND status = 'pending'",
            claims.Select(c => new { id = c.Id, token = c.LeaseToken, now = Time.Ms(now) }), cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }
}
