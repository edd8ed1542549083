namespace Herald.Endpoints;

/// <summary>
/// An endpoint's headers of its own that carry credentials (a gateway's key, a bearer token) are
/// never answered back, as the signing secret is not after it is made: their values read as
/// <see cref="Shown"/>, wherever the endpoint is read and wherever a receiver's answer repeats
/// them. The same placeholder given back (a form or a client that sends the set it read) keeps the
/// value the endpoint has under that name.
/// </summary>
public static class HiddenHeaders
{
    /// <summary>What a credential's value reads as.</summary>
    public const string Shown = "********";

    /// <summary>Words of a header's name that say it carries a credential.</summary>
    private static readonly HashSet<string> CredentialWords = new(StringComparer.Ordinal)
    {
        "authorization", "auth", "oauth", "token", "secret", "key", "apikey", "password", "passwd", "pass", "passphrase", "pwd",
        "session", "cookie", "credential", "credentials", "signature", "sig", "jwt", "bearer", "hmac", "private", "otp",
        // Words run together where a name is all in one case (X-APIKEY, x-accesstoken).
        "accesskey", "secretkey", "privatekey", "signingkey", "accesstoken", "authtoken", "refreshtoken", "idtoken",
        "sessiontoken", "clientsecret", "appsecret", "webhooksecret", "sharedsecret",
    };

    /// <summary>
    /// Whether a header of this name carries a credential: one of its words (split at <c>-</c>,
    /// <c>_</c>, <c>.</c> and where a lower-case letter meets a capital) is such a word
    /// (Authorization, X-Api-Key, X-Auth-Token, X-ClientSecret, X-APIKEY; not X-Keyboard-Layout,
    /// X-Author nor X-Monkey).
    /// </summary>
    public static bool IsCredential(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var word in Words(name))
        {
            if (CredentialWords.Contains(word))
            {
                return true;
            }
        }
        return false;
    }

    private static IEnumerable<string> Words(string name)
    {
        var start = 0;
        for (var i = 1; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] is '-' or '_' or '.' || (char.IsLower(name[i - 1]) && char.IsUpper(name[i])))
            {
                if (i > start)
                {
                    yield return name[start..i].Trim('-', '_', '.').ToLowerInvariant();
                }
                start = i;
            }
        }
    }

    /// <summary>The headers as they are answered: credentials hidden.</summary>
    public static IReadOnlyDictionary<string, string>? Hide(IReadOnlyDictionary<string, string>? headers) =>
        headers?.ToDictionary(h => h.Key, h => IsCredential(h.Key) ? Shown : h.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether any of the headers carries a credential.</summary>
    public static bool AnyCredential(IReadOnlyDictionary<string, string>? headers) => headers?.Keys.Any(IsCredential) == true;

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

    /// <summary>
    /// A receiver's answer (or an error) with the endpoint's credentials in it hidden: a gateway's
    /// refusal or an echo service may repeat them, and what it answered is kept and shown.
    /// </summary>
    public static string? Redact(string? text, IReadOnlyDictionary<string, string>? headers)
    {
        if (text is null || headers is null)
        {
            return text;
        }
        foreach (var (name, value) in headers)
        {
            if (!IsCredential(name))
            {
                continue;
            }
            // The value, and its token alone (a receiver may repeat "gw-123" of "Bearer gw-123").
            var token = value[(value.LastIndexOf(' ') + 1)..];
            foreach (var part in new[] { value, token })
            {
                if (part.Length >= 4)
                {
                    text = text.Replace(part, Shown, StringComparison.Ordinal);
                }
            }
        }
        return text;
    }
}
