namespace Herald.Storage.Model;

/// <summary>A tenant: owns API keys, endpoints, entities and notifications.</summary>
public sealed record Merchant(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A merchant API key; only its hash is stored.</summary>
public sealed record ApiKey(string Id, string MerchantId, string KeyHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt = null);
