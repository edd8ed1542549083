using System.Collections.Concurrent;

namespace Herald.Server.Hosting;

/// <summary>
/// Which merchant each credential seen signing in belongs to (an API key, a portal session, by their
/// hashes), so the rate limit, which runs before authentication, counts a merchant's keys and
/// sessions in one bucket: making keys does not multiply its limit. A credential not seen yet (its
/// first request, or an unknown one) is counted by its client's address, and one that stops
/// authenticating (a revoked key, an ended session) is forgotten at once, so whoever holds it cannot
/// spend its merchant's budget.
/// </summary>
internal sealed class RateLimitOwners
{
    // Bounded: past it, forgotten at once and learnt again as credentials are used.
    private const int MaxRemembered = 100_000;
    private readonly ConcurrentDictionary<string, string> _merchants = new(StringComparer.Ordinal);

    /// <summary>The merchant <paramref name="credentialHash"/> was last seen authenticating, or null.</summary>
    public string? MerchantOf(string credentialHash) => _merchants.TryGetValue(credentialHash, out var merchant) ? merchant : null;

    /// <summary>Notes that <paramref name="credentialHash"/> authenticated <paramref name="merchantId"/>.</summary>
    public void Note(string credentialHash, string merchantId)
    {
        if (_merchants.TryGetValue(credentialHash, out var known) && known == merchantId)
        {
            return;
        }
        if (_merchants.Count >= MaxRemembered)
        {
            _merchants.Clear();
        }
        _merchants[credentialHash] = merchantId;
    }

    /// <summary>Forgets <paramref name="credentialHash"/>: it no longer authenticates.</summary>
    public void Forget(string credentialHash) => _merchants.TryRemove(credentialHash, out _);
}
