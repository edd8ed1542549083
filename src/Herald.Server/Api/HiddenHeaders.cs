namespace Herald.Server.Api;

/// <summary>
/// An endpoint's headers of its own that carry credentials (a gateway's key, a bearer token) are
/// never answered back, as the signing secret is not after it is made: their values read as
/// <see cref="Shown"/>. The same placeholder given back (a form or a client that sends the set it
/// read) keeps the value the endpoint has under that name.
/// </summary>
public static class HiddenHeaders
{
    /// <summary>What a credential's value reads as.</summary>
    public const string Shown = "********";

    private static readonly string[] CredentialWords = ["auth", "token", "secret", "key", "password", "passwd", "session", "cookie", "credential", "signature"];

    /// <summary>Whether a header of this name carries a credential (by the words it holds, in any case: Authorization, X-Api-Key, X-Auth-Token, …).</summary>
    public static bool IsCredential(string name) => CredentialWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase));

    /// <summary>The headers as they are answered: credentials hidden.</summary>
    public static IReadOnlyDictionary<string, string>? Hide(IReadOnlyDictionary<string, string>? headers) =>
        headers?.ToDictionary(h => h.Key, h => IsCredential(h.Key) ? Shown : h.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The value to keep for a header given as <paramref name="value"/>: a credential given as
    /// <see cref="Shown"/> keeps the one <paramref name="current"/> has under its name (in any case);
    /// null when there is none to keep.
    /// </summary>
    public static string? Keep(string name, string value, IReadOnlyDictionary<string, string>? current)
    {
        if (value != Shown || !IsCredential(name))
        {
            return value;
        }
        return current?.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
    }
}
