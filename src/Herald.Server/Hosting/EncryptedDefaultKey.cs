using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.KeyManagement.Internal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Server.Hosting;

/// <summary>
/// With a keys certificate, a key ring whose default key was written before the certificate was
/// given (so stored unencrypted) gets a new key at start, encrypted to the certificate, which
/// protects new secrets from then on. The old key stays, to read what it protected.
/// </summary>
internal sealed partial class EncryptedDefaultKey(IKeyManager keys, IKeyRingProvider ring, IOptions<KeyManagementOptions> options, ILogger<EncryptedDefaultKey> logger) : IHostedService
{
    /// <summary>How long the new key serves as default before the ring rolls over to another, as for keys the ring makes itself.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.XmlRepository is not { } repository)
        {
            return;
        }
        // Data protection keeps its keys by the real clock, whatever clock Herald runs on.
        var now = DateTimeOffset.UtcNow;
        var unencrypted = repository.GetAllElements()
            .Where(e => e.Name.LocalName == "key" && !e.Descendants().Any(d => d.Name.LocalName == "encryptedSecret"))
            .Select(e => (string?)e.Attribute("id"))
            .OfType<string>()
            .Select(Guid.Parse)
            .ToHashSet();
        if (unencrypted.Count == 0)
        {
            return;
        }
        var all = keys.GetAllKeys();
        // A successor the ring made ahead of the current key's end, unencrypted, would become the
        // default when it activates: it has protected nothing yet (nothing uses a key before its
        // activation, give or take the 5 minutes of clock skew allowed), so it is revoked.
        foreach (var pending in all.Where(k => unencrypted.Contains(k.KeyId) && !k.IsRevoked && k.ActivationDate > now + ClockSkew))
        {
            keys.RevokeKey(pending.KeyId, "stored unencrypted; replaced by a key encrypted to the keys certificate");
        }
        // The key new secrets are protected with: the one activated last, if it is in force.
        var current = all
            .Where(k => k.ActivationDate <= now)
            .OrderByDescending(k => k.ActivationDate)
            .FirstOrDefault();
        if (current is null || current.IsRevoked || current.ExpirationDate <= now || !unencrypted.Contains(current.KeyId))
        {
            return;
        }
        var replacement = keys.CreateNewKey(now, now + Lifetime);
        // A key ring read before is refreshed in the background: the node serves once its default
        // key is an encrypted one (this one, or another node's made at the same moment), waiting
        // a few seconds at most.
        for (var waited = 0; waited < 50 && unencrypted.Contains(ring.GetCurrentKeyRing().DefaultKeyId); waited++)
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        var taken = !unencrypted.Contains(ring.GetCurrentKeyRing().DefaultKeyId);
        Replaced(logger, current.KeyId, replacement.KeyId, taken ? "from now on" : "within moments, once the key ring is read again");
    }

    /// <summary>How far ahead of its activation a key may be used, as data protection allows for clocks that differ between nodes.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(5300, LogLevel.Warning, "The key ring's default key {Old} was stored unencrypted (made before --keys-cert was given); new secrets are protected with key {New}, encrypted to the certificate, {When}; rotate endpoint secrets made before to have them under it too")]
    private static partial void Replaced(ILogger logger, Guid old, Guid @new, string when);
}
