namespace Herald.Storage.Model;

/// <summary>A tenant: owns API keys, endpoints, entities and notifications.</summary>
public sealed record Merchant(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A merchant API key; only its hash is stored.</summary>
public sealed record ApiKey(string Id, string MerchantId, string KeyHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt = null, string Scope = ApiKeyScopes.Full);

/// <summary>What an API key may do.</summary>
public static class ApiKeyScopes
{
    /// <summary>Everything the merchant may.</summary>
    public const string Full = "full";

    /// <summary>Read only: GET (and HEAD) of the merchant's API, nothing that changes anything.</summary>
    public const string Read = "read";

    public static readonly IReadOnlyList<string> All = [Full, Read];
}
