using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Portal;

/// <summary>
/// One-time portal sign-in links the operator makes for a merchant: a random token in the link's
/// path, kept only as its SHA-256 hash. Opening the link uses nothing up (mail and chat scanners
/// fetch links); its Sign in button does, once.
/// </summary>
internal static class PortalLinks
{
    /// <summary>Where a link is opened: this, then its token.</summary>
    public const string Path = PortalServiceCollectionExtensions.BasePath + "/link/";

    public const int DefaultExpiresInSeconds = 300;
    public const int MinExpiresInSeconds = 30;
    public const int MaxExpiresInSeconds = 24 * 60 * 60;

    /// <summary>A new token: 32 random bytes, base64url.</summary>
    public static string NewToken() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>How a token is kept, and looked up.</summary>
    public static string Hash(string token) => Auth.ApiKeys.Hash(token);

    /// <summary>
    /// A request's path as logs may show it: a link's token left out (it signs in whoever holds it).
    /// </summary>
    public static string Loggable(PathString path) =>
        path.StartsWithSegments(Path.TrimEnd('/'), StringComparison.OrdinalIgnoreCase, out _) ? Path + "…" : path.ToString();
}
