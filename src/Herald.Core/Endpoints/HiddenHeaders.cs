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
        "authorization", "authorisation", "authentication", "auth", "authn", "authz", "oauth", "token", "secret", "key",
        "password", "passwd", "pass", "passphrase", "passcode", "pwd", "session", "cookie", "credential", "cred", "signature", "sig",
        "jwt", "bearer", "hmac", "private", "otp",
        // Words run together where a name is all in one case (X-APIKEY, x-accesstoken) are read
        // as these and the qualifiers below (RunTogether), not listed.
    };

    /// <summary>
    /// Words that say whose or which credential a word run together with one names (X-APIPASSWORD,
    /// X-Masterkey): alone they say nothing.
    /// </summary>
    private static readonly HashSet<string> QualifierWords = new(StringComparer.Ordinal)
    {
        "api", "access", "client", "app", "webhook", "shared", "signing", "refresh", "id", "master", "user", "gateway", "service",
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
            // A number after it or a plural says the same: X-Token2, X-API-Keys, X-Creds.
            var bare = word.TrimEnd("0123456789".ToCharArray());
            if (IsCredentialWord(bare) || (bare.EndsWith('s') && IsCredentialWord(bare[..^1])))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A credential word, or words run together where a name is all in one case, each of them a
    /// credential word or a qualifier and one at least a credential word (X-Authkey, X-Passkey,
    /// X-Secrettoken, X-Apipassword; not X-Keyboard nor X-Monkey, whose other part is neither).
    /// </summary>
    private static bool IsCredentialWord(string word) => CredentialWords.Contains(word) || RunTogether(word, 0, credential: false);

    private static bool RunTogether(string word, int start, bool credential)
    {
        if (start == word.Length)
        {
            return credential;
        }
        for (var end = word.Length; end > start; end--)
        {
            var part = word[start..end];
            // A whole word is a run only when it has two parts at least.
            if ((start > 0 || end < word.Length)
                && (CredentialWords.Contains(part) || QualifierWords.Contains(part))
                && RunTogether(word, end, credential || CredentialWords.Contains(part)))
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
    public static string? Keep(string name, string value, IReadOnlyDictionary<string, string>? current) =>
        !IsPlaceholder(name, value) ? value : current?.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Whether a header given as <paramref name="value"/> stands for the value kept: a credential given as <see cref="Shown"/>.</summary>
    public static bool IsPlaceholder(string name, string? value) => value == Shown && IsCredential(name);

    /// <summary>
    /// How much more of a receiver's answer to read than is kept, when it is to be searched for
    /// credentials: enough that one cut by the kept part's end is still found whole (a value of
    /// 1,024 characters, written with JSON's escapes).
    /// </summary>
    public const int RedactionMargin = 8192;

    /// <summary>
    /// A receiver's answer (or an error) with the endpoint's credentials in it hidden: a gateway's
    /// refusal or an echo service may repeat them, and what it answered is kept and shown. Each
    /// value and its last word (the token of "Bearer gw-123") are found in any case, and as JSON
    /// and URLs escape them, the longest first. A receiver set on showing one can still encode it
    /// otherwise: it is sent the value with every request.
    /// </summary>
    public static string? Redact(string? text, IReadOnlyDictionary<string, string>? headers)
    {
        if (text is null || headers is null)
        {
            return text;
        }
        var forms = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            if (!IsCredential(name))
            {
                continue;
            }
            foreach (var part in new[] { value, value[(value.LastIndexOf(' ') + 1)..] })
            {
                if (part.Length < 4)
                {
                    continue;
                }
                // As it is; as .NET's JSON writes it; with "/" escaped too (as PHP's json_encode does); in a URL.
                var json = System.Text.Json.JsonEncodedText.Encode(part).ToString();
                forms.Add(part);
                forms.Add(json);
                forms.Add(part.Replace("/", "\\/", StringComparison.Ordinal));
                forms.Add(json.Replace("/", "\\/", StringComparison.Ordinal));
                // In a URL: every reserved character escaped; "/" kept (Python's quote, JavaScript's
                // encodeURI); a space as "+" (a form's encoding, as Python's quote_plus and .NET's
                // WebUtility.UrlEncode write it).
                var escaped = Uri.EscapeDataString(part);
                forms.Add(escaped);
                forms.Add(escaped.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase));
                forms.Add(escaped.Replace("%20", "+", StringComparison.Ordinal));
                forms.Add(System.Net.WebUtility.UrlEncode(part));
            }
        }
        foreach (var form in forms.OrderByDescending(f => f.Length))
        {
            text = text.Replace(form, Shown, StringComparison.OrdinalIgnoreCase);
        }
        return text;
    }
}
