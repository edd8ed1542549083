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

    /// <summary>The unrevoked key presented (<paramref name="presented"/>), whatever its scope; null when it is none.</summary>
    public static async Task<Storage.Model.ApiKey?> FindAsync(Storage.Abstractions.IHeraldStore store, string presented, CancellationToken cancellationToken)
    {
        if (await store.FindApiKeyByHashAsync(Hash(presented), cancellationToken).ConfigureAwait(false) is { Scope: Storage.Model.ApiKeyScopes.Full } full)
        {
            return full;
        }
        return await store.FindApiKeyByHashAsync(Hash(presented, Storage.Model.ApiKeyScopes.Read), cancellationToken).ConfigureAwait(false) is { Scope: Storage.Model.ApiKeyScopes.Read } read
            ? read
            : null;
    }
}
