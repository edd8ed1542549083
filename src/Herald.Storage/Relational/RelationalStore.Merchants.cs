using Dapper;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    public async Task CreateMerchantAsync(Merchant merchant, ApiKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(merchant);
        ArgumentNullException.ThrowIfNull(key);
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO merchants (id, name, created_at) VALUES (@id, @name, @created_at)",
            new { id = merchant.Id, name = merchant.Name, created_at = Time.Ms(merchant.CreatedAt) }, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO api_keys (id, merchant_id, key_hash, created_at, scope) VALUES (@id, @merchant_id, @key_hash, @created_at, @scope)",
            new { id = key.Id, merchant_id = key.MerchantId, key_hash = key.KeyHash, created_at = Time.Ms(key.CreatedAt), scope = key.Scope }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task<bool> CreateApiKeyAsync(ApiKey key, int maxActive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var scope = await BeginWriteAsync(cancellationToken);
        await TakeMerchantsTurnAsync(scope, key.MerchantId, cancellationToken);
        var added = await scope.Connection.ExecuteAsync(scope.Command(
            """
            INSERT INTO api_keys (id, merchant_id, key_hash, created_at, scope)
            SELECT @id, @merchant_id, @key_hash, @created_at, @scope
            WHERE (SELECT COUNT(*) FROM api_keys WHERE merchant_id = @merchant_id AND revoked_at IS NULL) < @max_active
            """,
            new { id = key.Id, merchant_id = key.MerchantId, key_hash = key.KeyHash, created_at = Time.Ms(key.CreatedAt), scope = key.Scope, max_active = maxActive }, cancellationToken));
        if (added == 0)
        {
            return false;
        }
        await scope.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// A write to the merchant's row, first in a transaction that counts what the merchant has before
    /// adding to it: such transactions for one merchant take turns on its lock (PostgreSQL; SQLite has
    /// one writer anyway), so the count is the one the insert meets.
    /// </summary>
    private static Task TakeMerchantsTurnAsync(WriteScope scope, string merchantId, CancellationToken cancellationToken) =>
        scope.Connection.ExecuteAsync(scope.Command("UPDATE merchants SET name = name WHERE id = @merchant_id",
            new { merchant_id = merchantId }, cancellationToken));

    private const string ApiKeyColumns = "id, merchant_id, key_hash, created_at, revoked_at, scope";

    public Task<Page<ApiKey>> ListApiKeysPageAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken = default) =>
        ReadPageAsync<ApiKeyRow, ApiKey>($"SELECT {ApiKeyColumns} FROM api_keys",
            new SqlFilter("merchant_id = @merchantId", new { merchantId }), limit, startingAfter, endingBefore, ToApiKey, cancellationToken);

    public async Task<ApiKey?> GetApiKeyAsync(string merchantId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(Read(
            $"SELECT {ApiKeyColumns} FROM api_keys WHERE merchant_id = @merchantId AND id = @id",
            new { merchantId, id }, cancellationToken));
        return row is null ? null : ToApiKey(row);
    }

    private static ApiKey ToApiKey(ApiKeyRow r) => new(r.id, r.merchant_id, r.key_hash, Time.At(r.created_at), Time.At(r.revoked_at), r.scope);

    public async Task<bool> RevokeApiKeyAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var changed = await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE api_keys SET revoked_at = @now WHERE id = @id AND merchant_id = @merchantId AND revoked_at IS NULL",
            new { id, merchantId, now = Time.Ms(now) }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return changed == 1;
    }

    public async Task EndPortalSessionAsync(string sessionHash, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "DELETE FROM portal_sessions_ended WHERE ended_at < @forgetBefore", new { forgetBefore = Time.Ms(forgetBefore) }, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO portal_sessions_ended (session_hash, ended_at) VALUES (@sessionHash, @at) ON CONFLICT DO NOTHING",
            new { sessionHash, at = Time.Ms(at) }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task EndMerchantPortalSessionsAsync(string merchantId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE merchants SET portal_sessions_ended_at = @at WHERE id = @merchantId", new { merchantId, at = Time.Ms(at) }, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command(
            "DELETE FROM portal_links WHERE merchant_id = @merchantId AND used_at IS NULL", new { merchantId }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public Task<string?> PortalSessionMerchantNameAsync(string merchantId, string keyHash, string sessionHash, DateTimeOffset signedInAt,
        CancellationToken cancellationToken = default) =>
        PortalSessionNameAsync(
            "AND EXISTS (SELECT 1 FROM api_keys WHERE key_hash = @keyHash AND merchant_id = @merchantId AND revoked_at IS NULL)",
            new { merchantId, keyHash, sessionHash, signedInAt = Time.Ms(signedInAt) }, cancellationToken);

    public Task<string?> PortalLinkSessionMerchantNameAsync(string merchantId, string sessionHash, DateTimeOffset signedInAt, CancellationToken cancellationToken = default) =>
        PortalSessionNameAsync("", new { merchantId, sessionHash, signedInAt = Time.Ms(signedInAt) }, cancellationToken);

    /// <summary>
    /// The merchant's name while a session of it stands, in one read: not ended by itself, nor
    /// signed in by the time the operator last ended every session of the merchant, and whatever
    /// <paramref name="credential"/> asks besides.
    /// </summary>
    private async Task<string?> PortalSessionNameAsync(string credential, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(Read(
            $"""
            SELECT name FROM merchants WHERE id = @merchantId
              AND (portal_sessions_ended_at IS NULL OR portal_sessions_ended_at < @signedInAt)
              {credential}
              AND NOT EXISTS (SELECT 1 FROM portal_sessions_ended WHERE session_hash = @sessionHash)
            """, parameters, cancellationToken));
    }

    public async Task CreatePortalLinkAsync(string tokenHash, string merchantId, DateTimeOffset createdAt, DateTimeOffset expiresAt, DateTimeOffset forgetBefore,
        CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        await scope.Connection.ExecuteAsync(scope.Command(
            "DELETE FROM portal_links WHERE expires_at < @forgetBefore", new { forgetBefore = Time.Ms(forgetBefore) }, cancellationToken));
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO portal_links (token_hash, merchant_id, created_at, expires_at) VALUES (@tokenHash, @merchantId, @createdAt, @expiresAt)",
            new { tokenHash, merchantId, createdAt = Time.Ms(createdAt), expiresAt = Time.Ms(expiresAt) }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task<Merchant?> PortalLinkMerchantAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<MerchantRow>(Read(
            """
            SELECT m.id, m.name, m.created_at FROM portal_links l JOIN merchants m ON m.id = l.merchant_id
            WHERE l.token_hash = @tokenHash AND l.used_at IS NULL AND l.expires_at > @now
            """, new { tokenHash, now = Time.Ms(now) }, cancellationToken));
        return row?.ToModel();
    }

    public async Task<string?> UsePortalLinkAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var merchantId = await scope.Connection.QuerySingleOrDefaultAsync<string?>(scope.Command(
            "UPDATE portal_links SET used_at = @now WHERE token_hash = @tokenHash AND used_at IS NULL AND expires_at > @now RETURNING merchant_id",
            new { tokenHash, now = Time.Ms(now) }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return merchantId;
    }

    public async Task<Merchant?> GetMerchantAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<MerchantRow>(Read(
            "SELECT id, name, created_at FROM merchants WHERE id = @id", new { id }, cancellationToken));
        return row?.ToModel();
    }

    public async Task<Page<Merchant>> ListMerchantsAsync(int limit, string? startingAfter, string? endingBefore, CancellationToken cancellationToken = default) =>
        await ReadPageAsync<MerchantRow, Merchant>("SELECT id, name, created_at FROM merchants",
            new SqlFilter("id <> @operatorId", new { operatorId = OperatorEventTypes.OperatorMerchantId }), limit, startingAfter, endingBefore,
            row => row.ToModel(), cancellationToken);

    public async Task<bool> RenameMerchantAsync(string id, string name, CancellationToken cancellationToken = default)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var changed = await scope.Connection.ExecuteAsync(scope.Command(
            "UPDATE merchants SET name = @name WHERE id = @id AND id <> @operatorId",
            new { id, name, operatorId = OperatorEventTypes.OperatorMerchantId }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
        return changed == 1;
    }

    public async Task<IReadOnlyList<ApiKey>> FindApiKeysByHashAsync(IReadOnlyCollection<string> keyHashes, CancellationToken cancellationToken = default)
    {
        // One parameter a hash (the databases expand a list parameter differently).
        var parameters = new DynamicParameters();
        var names = keyHashes.Select((hash, i) =>
        {
            parameters.Add("h" + i, hash);
            return "@h" + i;
        }).ToList();
        if (names.Count == 0)
        {
            return [];
        }
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApiKeyRow>(Read(
            $"SELECT {ApiKeyColumns} FROM api_keys WHERE key_hash IN ({string.Join(", ", names)})", parameters, cancellationToken));
        return [.. rows.Select(ToApiKey)];
    }
}
