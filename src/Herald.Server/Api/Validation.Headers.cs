using Herald.Endpoints;
using Herald.Errors;

namespace Herald.Server.Api;

// Checks shared by several routes: an endpoint's headers of its own.
internal static partial class Validation
{
    public const int MaxHeaders = 20;
    public const int MaxHeaderName = 64;
    public const int MaxHeaderValue = 1024;
    public const int MaxHeadersSize = 8192;

    /// <summary>
    /// An endpoint's headers of its own: HTTP header names (a token of at most 64 characters) with
    /// values of printable ASCII (no line breaks), at most 20; none that Herald sets itself
    /// (<c>webhook-*</c>, <c>User-Agent</c>, <c>Content-Type</c>, trace context) nor one of HTTP's
    /// framing, and no name twice in any case. Empty means none (null). A credential given as
    /// <see cref="HiddenHeaders.Shown"/> keeps the value <paramref name="current"/> has for it.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? EndpointHeaders(IReadOnlyDictionary<string, string?>? headers,
        IReadOnlyDictionary<string, string>? current = null, string field = "headers")
    {
        if (headers is null or { Count: 0 })
        {
            return null;
        }
        if (headers.Count > MaxHeaders)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} may hold at most {MaxHeaders} headers");
        }
        // Names compared as HTTP compares them: in any case.
        var kept = new Dictionary<string, string>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            if (name.Length is 0 or > MaxHeaderName || name.AsSpan().IndexOfAnyExcept(HeaderNameCharacters) >= 0)
            {
                throw new HeraldException(ErrorKind.BadRequest,
                    $"{field}: {HeraldException.Quote(name)} is not a header name (1 to {MaxHeaderName} letters, digits and !#$%&'*+-.^_`|~)");
            }
            if (IsHeraldsHeader(name))
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{field}: {name} is set by Herald itself (or by HTTP) and cannot be given");
            }
            if (kept.ContainsKey(name))
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{field}: {name} is given twice (header names are the same in any case)");
            }
            if (value is null)
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{field}.{name} must be a string");
            }
            if (value.Length > MaxHeaderValue)
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{field}.{name} is longer than {MaxHeaderValue} characters");
            }
            if (value.AsSpan().IndexOfAnyExcept(HeaderValueCharacters) >= 0)
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{field}.{name} may hold only printable ASCII characters and spaces (no line breaks)");
            }
            // Spaces and tabs around a value are no part of it in HTTP.
            kept[name] = HiddenHeaders.Keep(name, value.Trim(' ', '\t'), current)
                ?? throw new HeraldException(ErrorKind.BadRequest, $"{field}.{name}: {HiddenHeaders.Shown} stands for the value the endpoint keeps, and it has none under that name; give the value itself");
        }
        if (kept.Sum(h => h.Key.Length + h.Value.Length) > MaxHeadersSize)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} may add up to at most {MaxHeadersSize} characters of names and values");
        }
        return kept;
    }

    // RFC 9110's token characters.
    private static readonly System.Buffers.SearchValues<char> HeaderNameCharacters =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly System.Buffers.SearchValues<char> HeaderValueCharacters =
        System.Buffers.SearchValues.Create("\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static readonly HashSet<string> FramingHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive",
        "Upgrade", "TE", "Trailer", "Expect", "Proxy-Connection", "User-Agent", "traceparent", "tracestate", "baggage",
        // Herald reads answers as they come, uncompressed.
        "Accept-Encoding",
    };

    private static bool IsHeraldsHeader(string name) =>
        FramingHeaders.Contains(name) || name.StartsWith("webhook-", StringComparison.OrdinalIgnoreCase);
}
