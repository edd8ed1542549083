using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Herald.Endpoints;
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

    /// <summary>
    /// Whether this store may keep merchants' endpoint lists in memory between changes: only when
    /// every write to the endpoints goes through this very instance (one node on its own database).
    /// </summary>
    protected virtual bool OwnsEndpoints => false;

    private volatile bool _endpointsWatched;

    /// <summary>Whether endpoints read may be kept in memory now: the store owns them, or another node's writes are being announced to it.</summary>
    private bool CachesEndpoints => OwnsEndpoints || _endpointsWatched;

    /// <summary>
    /// For a store shared by several nodes: whether every endpoint write by any node is being
    /// announced to this one (through <see cref="EndpointsChangedElsewhere"/>). While it is, endpoints
    /// read are kept in memory; when it starts or stops, what was kept is dropped (announcements may
    /// have been missed).
    /// </summary>
    public void WatchEndpoints(bool watched)
    {
        _endpointsWatched = watched;
        EndpointsChanged();
    }

    /// <summary>Another node wrote an endpoint or its secrets: what was kept in memory is read afresh.</summary>
    public void EndpointsChangedElsewhere() => EndpointsChanged();

    /// <summary>Called in the transaction of every endpoint write, before it commits: where nodes share the database, it announces the write to the others.</summary>
    protected virtual Task OnEndpointsWrittenAsync(WriteScope scope, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Commits an endpoint write. One that changed something is announced to the other nodes, and
    /// what this node keeps in memory is dropped, even when the commit's answer is lost (the
    /// database may have committed all the same).
    /// </summary>
    private async Task CommitEndpointWriteAsync(WriteScope scope, bool changed, CancellationToken cancellationToken)
    {
        if (!changed)
        {
            await scope.CommitAsync(cancellationToken);
            return;
        }
        await OnEndpointsWrittenAsync(scope, cancellationToken);
        try
        {
            await scope.CommitAsync(cancellationToken);
        }
        finally
        {
            EndpointsChanged();
        }
    }

    // Most entries kept in each cache (lists by merchant and format, delivery targets by endpoint); past it the cache starts over.
    private const int EndpointCacheLimit = 10_000;

    // Kept as finished tasks: every recorded change asks, and is answered without a task of its own.
    private readonly ConcurrentDictionary<(string MerchantId, PayloadFormat Format), Task<IReadOnlyList<Endpoint>>> _endpointCache = new();
    private long _endpointsVersion;

    public Task<IReadOnlyList<Endpoint>> ListEndpointsForFormatAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken = default)
    {
        // Every recorded change asks this; a store that sees every endpoint write answers from memory.
        if (!CachesEndpoints)
        {
            return ReadEndpointsForFormatAsync(merchantId, format, cancellationToken);
        }
        return _endpointCache.TryGetValue((merchantId, format), out var cached) ? cached : ReadEndpointsOnceAsync(merchantId, format, cancellationToken);
    }

    private async Task<IReadOnlyList<Endpoint>> ReadEndpointsOnceAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken)
    {
        // One read fills the cache while the changes recorded meanwhile wait for it, rather than
        // each reading the same rows (and taking a connection of its own) at once. A read begun
        // before the latest endpoint write is joined by no one who came after it.
        var key = (merchantId, format);
        var version = Interlocked.Read(ref _endpointsVersion);
        var read = _endpointReads.AddOrUpdate(key,
            static (k, arg) => arg.Store.NewEndpointRead(k, arg.Version),
            static (k, existing, arg) => existing.Version == arg.Version ? existing : arg.Store.NewEndpointRead(k, arg.Version),
            (Store: this, Version: version));
        try
        {
            return await read.Task.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _endpointReads.TryRemove(KeyValuePair.Create(key, read));
        }
    }

    private sealed record EndpointRead(long Version, Lazy<Task<IReadOnlyList<Endpoint>>> Task);

    private readonly ConcurrentDictionary<(string MerchantId, PayloadFormat Format), EndpointRead> _endpointReads = new();

    private EndpointRead NewEndpointRead((string MerchantId, PayloadFormat Format) key, long version) =>
        new(version, new Lazy<Task<IReadOnlyList<Endpoint>>>(() => ReadAndKeepAsync(key, version)));

    private async Task<IReadOnlyList<Endpoint>> ReadAndKeepAsync((string MerchantId, PayloadFormat Format) key, long version)
    {
        // Shared by whoever asks meanwhile: no one caller's cancellation ends it.
        var endpoints = await ReadEndpointsForFormatAsync(key.MerchantId, key.Format, CancellationToken.None);
        Keep(_endpointCache, key, Task.FromResult(endpoints), version);
        return endpoints;
    }

    private Task<IReadOnlyList<Endpoint>> ReadEndpointsForFormatAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken) =>
        QueryEndpointsAsync("merchant_id = @merchantId AND format = @format AND deleted_at IS NULL",
            new { merchantId, format = format.ApiName() }, withSecrets: false, cancellationToken);

    /// <summary>
    /// Keeps what was read in <paramref name="cache"/>, where this store may keep endpoints, unless an
    /// endpoint changed since <paramref name="version"/> was read (before the read). Checked again
    /// after storing: a write that cleared the cache in between takes it back out.
    /// </summary>
    private void Keep<TKey, TValue>(ConcurrentDictionary<TKey, TValue> cache, TKey key, TValue value, long version)
        where TKey : notnull
    {
        if (!CachesEndpoints || Interlocked.Read(ref _endpointsVersion) != version)
        {
            return;
        }
        if (cache.Count >= EndpointCacheLimit)
        {
            cache.Clear();
        }
        cache[key] = value;
        if (Interlocked.Read(ref _endpointsVersion) != version)
        {
            cache.TryRemove(KeyValuePair.Create(key, value));
        }
    }

    /// <summary>Called after every endpoint write: what was kept in memory is read afresh.</summary>
    private void EndpointsChanged()
    {
        Interlocked.Increment(ref _endpointsVersion);
        _endpointCache.Clear();
        _targetCache.Clear();
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

    /// <summary>
    /// The endpoint of <paramref name="row"/> with <paramref name="secrets"/>, its headers decrypted;
    /// headers no key of this node's key ring reads leave it with neither headers nor secrets (as a
    /// delivery target is left, see <see cref="TargetOf"/>), marked so that a write keeps them.
    /// </summary>
    private Endpoint ModelOf(EndpointRow row, IReadOnlyList<string> secrets) =>
        ReadableHeaders(row.headers, out var unreadable) is var headers && unreadable
            ? row.ToModel([], null) with { HeadersUnreadable = true }
            : row.ToModel(secrets, headers);

    /// <summary>An endpoint's headers decrypted; null, and <paramref name="unreadable"/>, when no key of this node's key ring reads them.</summary>
    private IReadOnlyDictionary<string, string>? ReadableHeaders(string? kept, out bool unreadable)
    {
        unreadable = false;
        try
        {
            return HeadersOf(kept);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            unreadable = true;
            return null;
        }
    }

    /// <summary>A secret decrypted; null when no key of this node's key ring reads it.</summary>
    private string? ReadableSecret(string kept)
    {
        try
        {
            return Secrets.Unprotect(kept);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    /// <summary>An endpoint's headers as they are kept: a JSON object, encrypted as its secrets are; null for none.</summary>
    private string? KeptHeaders(IReadOnlyDictionary<string, string>? headers) =>
        headers is null or { Count: 0 } ? null : Secrets.Protect(System.Text.Json.JsonSerializer.Serialize(headers));

    /// <summary>An endpoint's headers from what <see cref="KeptHeaders"/> made.</summary>
    private IReadOnlyDictionary<string, string>? HeadersOf(string? kept) =>
        kept is null ? null : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(Secrets.Unprotect(kept));

    /// <summary>
    /// Secrets per endpoint, newest first: at <paramref name="now"/>, every one still signing (a rotated
    /// secret signs until its grace ends); without a time, only the current ones. A secret no key of
    /// this node's key ring reads is left out, as it is of a delivery target.
    /// </summary>
    private async Task<Dictionary<string, IReadOnlyList<string>>> LoadSecretsAsync(DbConnection connection, DbTransaction? transaction, string[] endpointIds, DateTimeOffset? now, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (endpointId, secrets) in await LoadSecretRowsAsync(connection, transaction, endpointIds, now, cancellationToken))
        {
            result[endpointId] = secrets.Select(r => ReadableSecret(r.secret)).OfType<string>().ToList();
        }
        return result;
    }

    /// <summary>
    /// Adds one parameter per value (<c>@{prefix}0</c>, <c>@{prefix}1</c>, …) and answers their names
    /// joined for an <c>IN (…)</c> list: the same text on both databases.
    /// </summary>
    private static string InList(DynamicParameters parameters, string prefix, IReadOnlyList<string> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            names[i] = "@" + prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters.Add(names[i], values[i]);
        }
        return string.Join(", ", names);
    }

    /// <summary>The secret rows of <see cref="LoadSecretsAsync"/>, newest first, still protected.</summary>
    private static async Task<Dictionary<string, List<SecretRow>>> LoadSecretRowsAsync(DbConnection connection, DbTransaction? transaction, string[] endpointIds, DateTimeOffset? now, CancellationToken cancellationToken)
    {
        var live = now is null ? "expires_at IS NULL" : "(expires_at IS NULL OR expires_at > @now)";
        var result = new Dictionary<string, List<SecretRow>>(StringComparer.Ordinal);
        foreach (var chunk in endpointIds.Distinct(StringComparer.Ordinal).Chunk(200))
        {
            var parameters = new DynamicParameters();
            parameters.Add("now", Time.Ms(now) ?? 0L);
            var rows = await connection.QueryAsync<SecretRow>(new CommandDefinition(
                $"SELECT endpoint_id, secret, created_at, expires_at FROM endpoint_secrets WHERE endpoint_id IN ({InList(parameters, "e", chunk)}) AND {live}",
                parameters, transaction, cancellationToken: cancellationToken));
            foreach (var group in rows.GroupBy(r => r.endpoint_id, StringComparer.Ordinal))
            {
                // Ordered here rather than by the database: this also runs inside a claim, whose
                // transaction keeps PostgreSQL's planner off sorts.
                result[group.Key] = group.OrderByDescending(r => r.created_at).ToList();
            }
        }
        return result;
    }

    private readonly ConcurrentDictionary<string, DeliveryTarget> _targetCache = new(StringComparer.Ordinal);

    /// <summary>
    /// What a delivery needs of each endpoint (address, rules, limits, signing secrets), by id; ids
    /// not found are left out. Answered from memory where this store may keep endpoints there: every
    /// notification handed to a worker or claimed needs it, and secrets are decrypted once, not per batch.
    /// </summary>
    private async Task<Dictionary<string, DeliveryTarget>> DeliveryTargetsAsync(Func<ValueTask<DbConnection>> open, DbTransaction? transaction, IEnumerable<string> endpointIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DeliveryTarget>(StringComparer.Ordinal);
        List<string>? missing = null;
        foreach (var id in endpointIds)
        {
            if (result.ContainsKey(id) || (missing?.Contains(id) ?? false))
            {
                continue;
            }
            if (CachesEndpoints && _targetCache.TryGetValue(id, out var cached))
            {
                result[id] = cached;
            }
            else
            {
                (missing ??= []).Add(id);
            }
        }
        if (missing is null)
        {
            return result;
        }
        var version = Interlocked.Read(ref _endpointsVersion);
        var connection = await open();
        var rows = new List<EndpointRow>(missing.Count);
        foreach (var id in missing)
        {
            var row = await connection.QuerySingleOrDefaultAsync<EndpointRow>(new CommandDefinition(
                "SELECT id, url, format, success_rule, retry_policy, timeout_seconds, max_concurrency, rate_limit, enabled, ordered, deleted_at, headers FROM endpoints WHERE id = @id",
                new { id }, transaction, cancellationToken: cancellationToken));
            if (row is not null)
            {
                rows.Add(row);
            }
        }
        // Every secret signing now, each kept with the end of its grace (time only moves on).
        var secrets = await LoadSecretRowsAsync(connection, transaction, rows.Select(r => r.id).ToArray(), now, cancellationToken);
        foreach (var row in rows)
        {
            var target = TargetOf(row, secrets.TryGetValue(row.id, out var s) ? s : null);
            result[row.id] = target;
            Keep(_targetCache, row.id, target, version);
        }
        return result;
    }

    /// <summary>
    /// What a delivery needs of <paramref name="row"/>, its secrets and headers decrypted. A secret no
    /// key of this node's key ring reads (a data folder restored without its <c>keys/</c>, say) is left
    /// out, and an endpoint whose headers none reads is given no secret at all: an endpoint left with
    /// none has its attempts fail, sending nothing, while every other endpoint's notifications,
    /// claimed beside its own, go on.
    /// </summary>
    private DeliveryTarget TargetOf(EndpointRow row, List<SecretRow>? secrets)
    {
        var readable = new List<(string Secret, long? ExpiresAt)>(secrets?.Count ?? 0);
        foreach (var secret in secrets ?? [])
        {
            if (ReadableSecret(secret.secret) is { } read)
            {
                readable.Add((read, secret.expires_at));
            }
        }
        var headers = ReadableHeaders(row.headers, out var unreadable);
        return unreadable ? new DeliveryTarget(row, [], null) : new DeliveryTarget(row, readable, headers);
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

    /// <summary>
    /// A disabled endpoint's pending notifications leave the due index (no time to be tried) until
    /// it is enabled again, so that claims need not step over them; <see cref="UnparkAsync"/> brings them back.
    /// </summary>
    private static Task ParkAsync(WriteScope scope, string endpointId, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE notifications SET next_attempt_at = NULL WHERE endpoint_id = @endpointId AND status = 'pending' AND next_attempt_at IS NOT NULL",
            new { endpointId }, cancellationToken));

    /// <summary>
    /// The ids of the parked notifications of enabled endpoints. It must go from the enabled endpoints
    /// into the index of parked notifications (<c>notifications_parked</c>): a disabled endpoint's
    /// backlog, however long, is never read here.
    /// </summary>
    protected virtual string UnparkableSql => """
        SELECT n.id FROM notifications n
        WHERE n.endpoint_id IN (SELECT id FROM endpoints WHERE enabled = TRUE AND deleted_at IS NULL)
          AND n.status = 'pending' AND n.next_attempt_at IS NULL
        """;

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
    /// Pending notifications of endpoints deleted since <c>@since</c>, read from the few such endpoints
    /// into the endpoint index; one leased at <c>@now</c> (an attempt under way) is left to its attempt
    /// while its endpoint was deleted after <c>@settled</c>.
    /// </summary>
    protected virtual string OrphanedSql => """
        SELECT n.id FROM notifications n
        WHERE n.endpoint_id IN (SELECT id FROM endpoints WHERE deleted_at >= @since)
          AND n.status = 'pending'
          AND (n.leased_until IS NULL OR n.leased_until <= @now
               OR (SELECT e.deleted_at FROM endpoints e WHERE e.id = n.endpoint_id) < @settled)
        """;

    public async Task<int> UnparkAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        // Nearly always there is nothing to do: a read says so without taking a write.
        bool unparkable, orphaned;
        var since = Time.Ms(now - OrphanWindow);
        var settled = Time.Ms(now - AttemptUnderWayWindow);
        var at = Time.Ms(now);
        await using (var connection = await OpenAsync(cancellationToken))
        {
            unparkable = await connection.ExecuteScalarAsync<string?>(Read($"{UnparkableSql} LIMIT 1", null, cancellationToken)) is not null;
            orphaned = await connection.ExecuteScalarAsync<string?>(Read($"{OrphanedSql} LIMIT 1", new { since, settled, now = at }, cancellationToken)) is not null;
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
            unparkSql += " AND n.endpoint_id = ANY(string_to_array(@endpoints, ','))";
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
