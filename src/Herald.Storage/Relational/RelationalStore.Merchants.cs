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
            "INSERT INTO api_keys (id, merchant_id, key_hash, created_at) VALUES (@id, @merchant_id, @key_hash, @created_at)",
            new { id = key.Id, merchant_id = key.MerchantId, key_hash = key.KeyHash, created_at = Time.Ms(key.CreatedAt) }, cancellationToken));
        await scope.CommitAsync(cancellationToken);
    }

    public async Task<Merchant?> GetMerchantAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<MerchantRow>(Read(
            "SELECT id, name, created_at FROM merchants WHERE id = @id", new { id }, cancellationToken));
        return row is null ? null : new Merchant(row.id, row.name, Time.At(row.created_at));
    }

    public async Task<string?> FindMerchantByKeyHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string>(Read(
            "SELECT merchant_id FROM api_keys WHERE key_hash = @keyHash AND revoked_at IS NULL", new { keyHash }, cancellationToken));
    }
}
