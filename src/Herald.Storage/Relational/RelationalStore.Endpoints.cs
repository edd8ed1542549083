using System.Data;
using Dapper;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    // The columns an endpoint is written with; it is read with failing_since too, which delivery alone writes.
    private const string EndpointColumns =
        "id, merchant_id, url, description, format, event_types, success_rule, retry_policy, timeout_seconds, ordered, enabled, source, preference_id, disabled_reason, disabled_at, created_at, updated_at, max_concurrency, rate_limit, headers";

    public async Task CreateEndpointAsync(Endpoint endpoint, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        await InsertEndpointAsync(scope, endpoint, cancellationToken);
        await CommitEndpointWriteAsync(scope, true, cancellationToken);
    }

    public async Task<Creation> CreateEndpointWithinAsync(Endpoint endpoint, int maxEndpoints, (string Key, string RequestHash)? idempotency = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (idempotency is { } key && !await TakeIdempotencyKeyAsync(scope, endpoint.MerchantId, key, endpoint.Id, endpoint.CreatedAt, cancellationToken))
        {
            return Creation.KeyTaken;
        }
        await TakeMerchantsTurnAsync(scope, endpoint.MerchantId, cancellationToken);
        var own = await scope.Connection.ExecuteScalarAsync<long>(scope.Command(
            "SELECT COUNT(*) FROM endpoints WHERE merchant_id = @merchant_id AND deleted_at IS NULL AND preference_id IS NULL",
            new { merchant_id = endpoint.MerchantId }, cancellationToken));
        if (own >= maxEndpoints)
        {
            return Creation.AtLimit;
        }
        await InsertEndpointAsync(scope, endpoint, cancellationToken);
        await CommitEndpointWriteAsync(scope, true, cancellationToken);
        return Creation.Created;
    }

    private async Task InsertEndpointAsync(WriteScope scope, Endpoint endpoint, CancellationToken cancellationToken)
    {
        await scope.Connection.ExecuteAsync(scope.Command(
            $"INSERT INTO endpoints ({EndpointColumns}) VALUES (@id, @merchant_id, @url, @description, @format, @event_types, @success_rule, @retry_policy, @timeout_seconds, @ordered, @enabled, @source, @preference_id, @disabled_reason, @disabled_at, @created_at, @updated_at, @max_concurrency, @rate_limit, @headers)",
            EndpointRow.Parameters(endpoint, KeptHeaders(endpoint.Headers)), cancellationToken));
        foreach (var secret in endpoint.Secrets)
        {
            await scope.Connection.ExecuteAsync(scope.Command(
                "INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES (@endpoint_id, @secret, @created_at)",
                new { endpoint_id = endpoint.Id, secret = Secrets.Protect(secret), created_at = Time.Ms(endpoint.CreatedAt) }, cancellationToken));
        }
    }

    public async Task<Endpoint?> GetEndpointAsync(string merchantId, string id, CancellationToken cancellationToken = default)
    {
        var list = await QueryEndpointsAsync("merchant_id = @merchantId AND id = @id AND deleted_at IS NULL", new { merchantId, id }, withSecrets: true, cancellationToken);
        return list.Count == 0 ? null : list[0];
    }

    public Task<IReadOnlyList<Endpoint>> ListEndpointsAsync(string merchantId, CancellationToken cancellationToken = default) =>
        QueryEndpointsAsync("merchant_id = @merchantId AND deleted_at IS NULL", new { merchantId }, withSecrets: true, cancellationToken);

    public Task<IReadOnlyList<Endpoint>> ListOwnEndpointsBareAsync(string merchantId, CancellationToken cancellationToken = default) =>
        QueryEndpointsAsync("merchant_id = @merchantId AND preference_id IS NULL AND deleted_at IS NULL", new { merchantId }, withSecrets: false, cancellationToken);

    public async Task<IReadOnlyList<Endpoint>> GetEndpointsBareAsync(string merchantId, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var found = new List<Endpoint>();
        // A chunk at a time: the number of parameters a statement takes is bounded.
        foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(500))
        {
            var parameters = new DynamicParameters(new { merchantId });
            found.AddRange(await QueryEndpointsAsync($"merchant_id = @merchantId AND id IN ({InList(parameters, "id", chunk)}) AND deleted_at IS NULL",
                parameters, withSecrets: false, cancellationToken));
        }
        return found;
    }

    public Task<Page<Endpoint>> ListEndpointsPageAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        bool preferencesOnly = false, CancellationToken cancellationToken = default)
    {
        var where = new SqlFilter("merchant_id = @merchantId AND deleted_at IS NULL", new { merchantId });
        where.AndIf(preferencesOnly, "preference_id IS NOT NULL");
        // A page reads its own rows, and decrypts their headers alone: a listing never shows secrets.
        return ReadPageAsync<EndpointRow, Endpoint>($"SELECT {EndpointColumns}, failing_since FROM endpoints", where, limit, startingAfter, endingBefore,
            row => ModelOf(row, []), cancellationToken);
    }

    private async Task<IReadOnlyList<Endpoint>> QueryEndpointsAsync(string where, object parameters, bool withSecrets, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<EndpointRow>(Read(
            $"SELECT {EndpointColumns}, failing_since FROM endpoints WHERE {where} ORDER BY id", parameters, cancellationToken))).AsList();
        if (rows.Count == 0)
        {
            return [];
        }
        if (!withSecrets)
        {
            // Read to route changes: neither secrets nor headers are wanted (nor decrypted).
            return rows.Select(r => r.ToModel([], null)).ToList();
        }
        var secrets = await LoadSecretsAsync(connection, null, rows.Select(r => r.id).ToArray(), null, cancellationToken);
        return rows.Select(r => ModelOf(r, secrets.TryGetValue(r.id, out var s) ? s : [])).ToList();
    }

    public Task<bool> UpdateEndpointAsync(Endpoint endpoint, DateTimeOffset? expectedUpdatedAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return WriteAgainIfRaceLostAsync(() => UpdateEndpointOnceAsync(endpoint, expectedUpdatedAt, cancellationToken));
    }

    private async Task<bool> UpdateEndpointOnceAsync(Endpoint endpoint, DateTimeOffset? expectedUpdatedAt, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var parameters = new DynamicParameters(EndpointRow.Parameters(endpoint, KeptHeaders(endpoint.Headers)));
        parameters.Add("expected_updated_at", expectedUpdatedAt is { } expected ? Time.Ms(expected) : null, DbType.Int64);
        // Headers this node cannot read, and the change did not give again, stay as they are kept.
        parameters.Add("keep_headers", endpoint.HeadersUnreadable, DbType.Boolean);
        // Enabled again (resumed, or enabled by the merchant), the endpoint starts its count of
        // failing days afresh: its first failure then must not find the days before the pause.
        var changed = await scope.Connection.ExecuteAsync(scope.Command(
            """
            UPDATE endpoints SET url = @url, description = @description, event_types = @event_types,
              success_rule = @success_rule, retry_policy = @retry_policy, timeout_seconds = @timeout_seconds,
              ordered = @ordered, max_concurrency = @max_concurrency, rate_limit = @rate_limit,
              headers = CASE WHEN @keep_headers THEN headers ELSE @headers END,
              failing_since = CASE WHEN @enabled AND NOT enabled THEN NULL ELSE failing_since END,
              enabled = @enabled, disabled_reason = @disabled_reason, disabled_at = @disabled_at,
              updated_at = @updated_at
            WHERE id = @id AND merchant_id = @merchant_id AND deleted_at IS NULL
              AND (@expected_updated_at IS NULL OR updated_at = @expected_updated_at)
            """,
            parameters, cancellationToken));
        if (changed == 1 && !endpoint.Enabled)
        {
            await ParkAsync(scope, endpoint.Id, cancellationToken);
        }
        await CommitEndpointWriteAsync(scope, changed == 1, cancellationToken);
        return changed == 1;
    }

    public Task<bool> DisableEndpointAsync(string endpointId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WriteAgainIfRaceLostAsync(() => DisableEndpointOnceAsync(endpointId, reason, now, cancellationToken));

    private async Task<bool> DisableEndpointOnceAsync(string endpointId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var changed = await scope.Connection.ExecuteAsync(scope.Command(
            // updated_at moves on even in the millisecond of the write before it: a merchant's change
            // read before this one is then refused, rather than taken and enabling the endpoint again.
            """
            UPDATE endpoints SET enabled = @enabled, disabled_reason = @reason, disabled_at = @now,
              updated_at = CASE WHEN updated_at >= @now THEN updated_at + 1 ELSE @now END
            WHERE id = @endpointId AND enabled = @wasEnabled
            """,
            new { endpointId, reason, now = Time.Ms(now), enabled = false, wasEnabled = true }, cancellationToken));
        if (changed == 1)
        {
            await ParkAsync(scope, endpointId, cancellationToken);
        }
        await CommitEndpointWriteAsync(scope, changed == 1, cancellationToken);
        return changed == 1;
    }

    public Task<bool> DeleteEndpointAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WriteAgainIfRaceLostAsync(() => DeleteEndpointOnceAsync(merchantId, id, now, cancellationToken));

    private async Task<bool> DeleteEndpointOnceAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var changed = await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE endpoints SET deleted_at = @now, enabled = @enabled, updated_at = @now WHERE id = @id AND merchant_id = @merchantId AND deleted_at IS NULL",
            new { id, merchantId, now = Time.Ms(now), enabled = false }, cancellationToken));
        if (changed == 1)
        {
            // One with an attempt under way (leased) is left to it: a request the receiver answered
            // 200 is a delivery, recorded as such, and one that failed dies at the workers' next
            // round (UnparkAsync), as an attempt's outcome is never written over a lease taken from it.
            await scope.Connection.ExecuteAsync(scope.Command(
                $"{KilledByDelete} WHERE endpoint_id = @id AND status = 'pending' AND (leased_until IS NULL OR leased_until <= @now)",
                new { id, now = Time.Ms(now) }, cancellationToken));
            // Nothing is sent to it again: its signing secrets and its headers (a gateway's key, say)
            // are not kept past it, in the database or its backups. Its row stays for its log.
            await scope.Connection.ExecuteAsync(scope.Command(
                "UPDATE endpoints SET headers = NULL WHERE id = @id", new { id }, cancellationToken));
            await scope.Connection.ExecuteAsync(scope.Command(
                "DELETE FROM endpoint_secrets WHERE endpoint_id = @id", new { id }, cancellationToken));
        }
        await CommitEndpointWriteAsync(scope, changed == 1, cancellationToken);
        return changed == 1;
    }

    public async Task<SecretRotation> RotateSecretAsync(string merchantId, string endpointId, string secret, DateTimeOffset now, DateTimeOffset previousUntil, int maxSigning,
        CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        // A write to the endpoint's row first: rotations of one endpoint take turns on its lock
        // (PostgreSQL; SQLite has one writer anyway), so the secrets counted are the ones the new one joins.
        var exists = await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE endpoints SET updated_at = updated_at WHERE id = @endpointId AND merchant_id = @merchantId AND deleted_at IS NULL",
            new { endpointId, merchantId }, cancellationToken));
        if (exists == 0)
        {
            return new SecretRotation(SecretRotationOutcome.NotFound);
        }
        // A secret whose grace has ended never signs again: it is not counted, and goes.
        var at = Time.Ms(now);
        await scope.Connection.ExecuteAsync(scope.Command(
            "DELETE FROM endpoint_secrets WHERE endpoint_id = @endpointId AND expires_at <= @now",
            new { endpointId, now = at }, cancellationToken));
        // Each secret signing adds its signature (48 bytes) to every request's header: past a few,
        // receivers and their proxies refuse it (nginx's 8 KB line at some 170). A rotation without
        // a grace stops the old ones now, so it always fits.
        var ends = (await scope.Connection.QueryAsync<long?>(scope.Command(
            "SELECT expires_at FROM endpoint_secrets WHERE endpoint_id = @endpointId",
            new { endpointId }, cancellationToken))).AsList();
        if (previousUntil > now && ends.Count + 1 > maxSigning)
        {
            // Room for one more once this many have ended, the soonest first.
            var toEnd = ends.Count + 1 - maxSigning;
            var fitsAt = ends.OfType<long>().Order().Skip(toEnd - 1).Cast<long?>().FirstOrDefault();
            return new SecretRotation(SecretRotationOutcome.TooManySigning, ends.Count, Time.At(fitsAt));
        }
        // Every secret still signing stops at the end of the grace (or earlier, if it was due to).
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE endpoint_secrets SET expires_at = @until WHERE endpoint_id = @endpointId AND (expires_at IS NULL OR expires_at > @until)",
            new { endpointId, until = Time.Ms(previousUntil) }, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES (@endpointId, @secret, @now)",
            new { endpointId, secret = Secrets.Protect(secret), now = at }, cancellationToken));
        await CommitEndpointWriteAsync(scope, true, cancellationToken);
        return new SecretRotation(SecretRotationOutcome.Rotated);
    }

    public Task<IReadOnlyList<string>> SigningSecretsAsync(string endpointId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        // Read as a claim reads them, from the same targets, so a test signs as a delivery would.
        WithConnectionIfNeededAsync(async open =>
        {
            var targets = await DeliveryTargetsAsync(open, null, [endpointId], now, cancellationToken);
            return targets.TryGetValue(endpointId, out var target) ? target.SecretsAt(Time.Ms(now)) : (IReadOnlyList<string>)[];
        }, cancellationToken);
}
