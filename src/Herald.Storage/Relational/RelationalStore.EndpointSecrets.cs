using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// Endpoints' secrets and headers, kept protected and read back, and the delivery targets claims carry.
public abstract partial class RelationalStore
{
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
}
