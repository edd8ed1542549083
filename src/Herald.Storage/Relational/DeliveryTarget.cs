namespace Herald.Storage.Relational;

/// <summary>What a delivery needs of an endpoint, as read at one moment: kept in memory while no endpoint changes.</summary>
internal sealed class DeliveryTarget(EndpointRow endpoint, IReadOnlyList<(string Secret, long? ExpiresAt)> secrets, IReadOnlyDictionary<string, string>? headers)
{
    public EndpointRow Endpoint => endpoint;

    /// <summary>The endpoint's headers of its own, decrypted once for every delivery.</summary>
    public IReadOnlyDictionary<string, string>? Headers => headers;

    /// <summary>Whether notifications written already leased may go straight to the workers: enabled, not ordered, not deleted.</summary>
    public bool TakesHandOffs => endpoint.enabled && !endpoint.ordered && endpoint.deleted_at is null;

    public bool Deleted => endpoint.deleted_at is not null;

    // Every secret, and when the first of them expires: until then every delivery is given the one
    // list (no secret is being rotated out, the usual case), not a list of its own.
    private readonly IReadOnlyList<string> _all = secrets.Select(s => s.Secret).ToList();
    private readonly long? _firstExpiry = secrets.Min(s => s.ExpiresAt);

    /// <summary>The secrets signing at <paramref name="now"/> (Unix milliseconds), newest first.</summary>
    public IReadOnlyList<string> SecretsAt(long now) =>
        _firstExpiry is null || _firstExpiry > now
            ? _all
            : secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret).ToList();
}
