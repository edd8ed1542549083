using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Auth;

/// <summary>API keys: <c>hk_</c> and 32 random characters; only their SHA-256 is stored.</summary>
public static class ApiKeys
{
    public const string Prefix = "hk_";

    /// <summary>Most keys a merchant holds unrevoked at once.</summary>
    public const int MaxActive = 25;
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string NewKey() => Prefix + RandomNumberGenerator.GetString(Alphabet, 32);

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// How a key is kept for <paramref name="scope"/>: a read-only key's hash is of the key with a
    /// prefix of its own, so that a node of an earlier release (which knows no scopes and looks keys
    /// up by <see cref="Hash"/> alone) never finds it, rather than take it for a full key; the same
    /// after a rollback.
    /// </summary>
    public static string Hash(string key, string scope) => scope == Storage.Model.ApiKeyScopes.Full ? Hash(key) : Hash(scope + ":" + key);

    /// <summary>
    /// The key presented (<paramref name="presented"/>, whose <see cref="Hash(string)"/> is
    /// <paramref name="presentedHash"/>), whatever its scope, in one look-up; null when it is none.
    /// A stored hash is taken only for the scope it was made for. A revoked key is found too (its
    /// <see cref="Storage.Model.ApiKey.RevokedAt"/> set), so that its holder can be told it was
    /// revoked; it authenticates nothing.
    /// </summary>
    public static async Task<Storage.Model.ApiKey?> FindAsync(Storage.Abstractions.IHeraldStore store, string presented, string presentedHash, CancellationToken cancellationToken)
    {
        var readHash = Hash(presented, Storage.Model.ApiKeyScopes.Read);
        var found = await store.FindApiKeysByHashAsync([presentedHash, readHash], cancellationToken).ConfigureAwait(false);
        var matching = found.Where(key => key.KeyHash == presentedHash ? key.Scope == Storage.Model.ApiKeyScopes.Full
            : key.KeyHash == readHash && key.Scope == Storage.Model.ApiKeyScopes.Read);
        return matching.FirstOrDefault(key => key.RevokedAt is null) ?? matching.FirstOrDefault();
    }

    private const string PresentedHashItem = "herald.presented_key_hash";

    /// <summary>
    /// The <see cref="Hash(string)"/> of the key a request presents, computed once a request: the rate
    /// limit, the admin check and the key's look-up all start from it.
    /// </summary>
    public static string PresentedHash(Microsoft.AspNetCore.Http.HttpContext http, string presented)
    {
        if (http.Items[PresentedHashItem] is (string key, string kept) && key == presented)
        {
            return kept;
        }
        var hash = Hash(presented);
        http.Items[PresentedHashItem] = (presented, hash);
        return hash;
    }
}
