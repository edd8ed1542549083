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
}
