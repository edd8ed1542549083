using System.Globalization;
using System.Net;
using Herald.Delivery;
using Herald.Delivery.Egress;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Errors;

namespace Herald.Server.Api;

/// <summary>Checks shared by several routes.</summary>
internal static partial class Validation
{
    public const int MaxUrlLength = 2048;
    public const int MaxText = 1024;

    /// <summary>
    /// Why a URL that looks like one (a scheme, then <c>//</c>) is not one, where that can be told:
    /// its port past 65535, or a part of its host name longer than 63 characters. Empty otherwise.
    /// </summary>
    private static string WhyNotAbsolute(string url)
    {
        var match = UrlAuthority().Match(url);
        if (!match.Success)
        {
            return "";
        }
        if (match.Groups["port"].Success && (match.Groups["port"].Value.Length > 5 || int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) > 65535))
        {
            return ": its port is beyond 65535";
        }
        return match.Groups["host"].Value.Split('.').Any(label => label.Length > 63)
            ? ": a part of its host name is longer than 63 characters"
            : "";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(?<host>\[[^\]]*\]|[^:/?#]*)(?::(?<port>[0-9]+))?(?:[/?#]|$)")]
    private static partial System.Text.RegularExpressions.Regex UrlAuthority();

    /// <summary>
    /// An endpoint URL: absolute, https (http only in development), no user-info, and — when the
    /// host is a literal address, however written — not one Herald would refuse to connect to.
    /// </summary>
    public static string EndpointUrl(string? url, DeliveryOptions options, string field = "url")
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is required");
        }
        if (url.Length > MaxUrlLength)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is longer than {MaxUrlLength} characters");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is not an absolute URL{WhyNotAbsolute(url)}");
        }
        if (uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6) && uri.IdnHost.Split('.').Any(label => label.Length > 63))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} has a part of its host name longer than 63 characters, which no name server answers");
        }
        if (!EgressPolicy.SchemeAllowed(uri, options.Development))
        {
            throw new HeraldException(ErrorKind.BadRequest, options.Development
                ? $"{field} must use https or http"
                : $"{field} must use https ({EgressPolicy.PlainHttpOnlyInDevelopment})");
        }
        if (uri.Port == 0)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} has port 0, on which nothing can be reached");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must not contain credentials");
        }
        // A fragment never leaves the client that holds it: a URL with one would be sent without it,
        // not as the merchant wrote it.
        if (url.Contains('#', StringComparison.Ordinal))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must not contain a fragment (#…): it is never sent to the receiver");
        }
        // The host as it is connected to (IdnHost: 127。0。0。1 is 127.0.0.1 there), without the
        // root's trailing dot, which leaves a literal address the same address.
        if (IPAddress.TryParse(uri.IdnHost.TrimEnd('.').Trim('[', ']'), out var address)
            && new EgressPolicy(options.Development, options.AllowedNetworks).Refusal(address) is { } reason)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} points at {reason}; Herald does not deliver there");
        }
        if (!options.Development && (uri.IsLoopback || IsLoopbackName(uri.IdnHost)))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} points at a loopback host; Herald does not deliver there");
        }
        return uri.AbsoluteUri;
    }

    /// <summary>
    /// A name that means this machine whatever resolves it: <c>localhost</c> and every name under it
    /// (RFC 6761), and the names hosts files give it (<c>localhost.localdomain</c>, <c>ip6-localhost</c>,
    /// <c>ip6-loopback</c>), in any case, written with the root's trailing dot or not. (Any other name
    /// that resolves to this machine is refused when Herald connects.)
    /// </summary>
    private static bool IsLoopbackName(string host)
    {
        var name = host.TrimEnd('.');
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || LoopbackNames.Contains(name);
    }

    private static readonly HashSet<string> LoopbackNames = new(StringComparer.OrdinalIgnoreCase) { "localhost.localdomain", "ip6-localhost", "ip6-loopback" };

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

    /// <summary>
    /// <see cref="Text"/> for a text a merchant may also take away: one left blank is none (null),
    /// so an emptied description reads as no description, not as "".
    /// </summary>
    public static string? OptionalText(string? value, string field, int max = MaxText) =>
        string.IsNullOrWhiteSpace(Text(value, field, max)) ? null : value;

    public static string? Text(string? value, string field, int max = MaxText)
    {
        // Characters as a reader counts them (an emoji is one), not UTF-16 units: counted only
        // when the units alone could be too many.
        if (value is not null && value.Length > max && value.EnumerateRunes().Count() > max)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is longer than {max} characters");
        }
        if (value is not null && value.Contains('\0', StringComparison.Ordinal))
        {
            // PostgreSQL's text refuses it: refused on both databases alike.
            throw new HeraldException(ErrorKind.BadRequest, $"{field} may not contain the NUL character (\\u0000)");
        }
        return value;
    }

    public static string RequiredText(string? value, string field, int max = MaxText)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is required");
        }
        return Text(value, field, max)!;
    }

    /// <summary>
    /// The most entries any list in a body may hold: a transaction's order lines, a preference's
    /// items and any list inside them. Each is kept, and sent, as a whole: a transaction's order line
    /// given as <c>{}</c> (2 bytes) is stored and delivered with its four keys, about 70.
    /// </summary>
    public const int MaxListEntries = 100;

    /// <summary>
    /// Refuses any text in the document (a value, or a field's name) longer than <see cref="MaxText"/>
    /// or holding NUL, a list of more than <see cref="MaxListEntries"/> entries, and a list holding
    /// null (every list a body carries is of objects or values), naming where it is.
    /// </summary>
    public static void Bounded(System.Text.Json.Nodes.JsonNode? node, string path)
    {
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject o:
                foreach (var (key, value) in o)
                {
                    // A field's name is text too, held to the same rules.
                    Text(key, $"a field name in {path}");
                    Bounded(value, $"{path}.{key}");
                }
                break;
            case System.Text.Json.Nodes.JsonArray a:
                if (a.Count > MaxListEntries)
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"{path} may hold at most {MaxListEntries} entries, not {a.Count}");
                }
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is null)
                    {
                        throw new HeraldException(ErrorKind.BadRequest, $"{path}[{i}] may not be null");
                    }
                    Bounded(a[i], $"{path}[{i}]");
                }
                break;
            case System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                Text(v.GetValue<string>(), path);
                break;
        }
    }

    public static decimal PositiveAmount(decimal? value, string field) =>
        value is > 0 ? value.Value : throw new HeraldException(ErrorKind.BadRequest, $"{field} must be a number greater than 0");

    /// <summary>A positive whole amount, written without a fraction (100.0 is 100), as seed 000's amounts are.</summary>
    public static long PositiveWholeAmount(decimal? value, string field)
    {
        var amount = PositiveAmount(value, field);
        if (!decimal.IsInteger(amount))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must be a whole number, as a Point payment intent's amount is");
        }
        return amount <= long.MaxValue
            ? (long)amount
            : throw new HeraldException(ErrorKind.BadRequest, $"{field} must be at most {long.MaxValue}");
    }

    public static string Currency(string? value, string field = "currency")
    {
        const string Rule = "must be a three-letter ISO 4217 code such as BRL";
        if (value is null || value.Length != 3 || !value.All(char.IsAsciiLetterUpper))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} {Rule}");
        }
        return IsoCodes.Currencies.Contains(value)
            ? value
            : throw new HeraldException(ErrorKind.BadRequest, $"{field} {Rule}; {HeraldException.Quote(value)} is no currency in use");
    }

    /// <summary>An optional country, as seed 003 writes one (<c>BR</c>, <c>GB</c>): null, or an ISO 3166-1 alpha-2 code.</summary>
    public static void Country(string? value, string field)
    {
        if (value is not null && !IsoCodes.Countries.Contains(value))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must be a two-letter ISO 3166-1 country code such as BR; {HeraldException.Quote(value)} is none");
        }
    }

    /// <summary>An id another system gave (a Point client, caller or payment): seed 000's are all above 0, as such ids are.</summary>
    public static long PositiveId(long value, string field) =>
        value > 0 ? value : throw new HeraldException(ErrorKind.BadRequest, $"{field} must be a whole number greater than 0");

    /// <summary>A count of something (an order line's quantity): none is fewer than nothing.</summary>
    public static void NotNegative(int? value, string field)
    {
        if (value < 0)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} may not be negative");
        }
    }

    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxMerchantName = 200;

    public static int Limit(int? limit) => limit switch
    {
        null => DefaultLimit,
        >= 1 and <= MaxLimit => limit.Value,
        _ => throw new HeraldException(ErrorKind.BadRequest, $"limit must be between 1 and {MaxLimit}"),
    };

    /// <summary>
    /// A list pages one way at a time (400 when both cursors are given), from an id of what it lists
    /// (<paramref name="prefix"/>, e.g. <c>ntf</c>): anything else, a typo or a cut-off id, would
    /// otherwise page from wherever it sorts and answer an empty or a wrong page.
    /// </summary>
    public static void OneCursor(string? startingAfter, string? endingBefore, string prefix, string what)
    {
        if (!string.IsNullOrEmpty(startingAfter) && !string.IsNullOrEmpty(endingBefore))
        {
            throw new HeraldException(ErrorKind.BadRequest, "starting_after and ending_before cannot be combined; page one way at a time");
        }
        foreach (var (cursor, name) in new[] { (startingAfter, "starting_after"), (endingBefore, "ending_before") })
        {
            if (!string.IsNullOrEmpty(cursor) && !Herald.Ids.HeraldId.IsWellFormed(prefix, cursor))
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{name} must be {what} id ({prefix}_…), as a page's ids are");
            }
        }
    }

    /// <summary>
    /// A filter by the id of another kind of thing (<paramref name="prefix"/>, e.g. <c>ep</c>):
    /// an id of another kind, or no id at all, is a mistake the client is told of (400), not a page
    /// that is empty. One of the kind that names nothing (deleted, another merchant's, a test's
    /// <c>evt_test_…</c>) lists nothing.
    /// </summary>
    public static void IdFilter(string? value, string prefix, string field, string what)
    {
        if (!string.IsNullOrEmpty(value) && !value.StartsWith(prefix + "_", StringComparison.Ordinal))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must be {what} id ({prefix}_…), not {HeraldException.Quote(value)}");
        }
    }

    /// <summary>An optional ISO 8601 time; 400 when it is not one.</summary>
    public static DateTimeOffset? Time(string? value, string field)
    {
        if (value is null)
        {
            return null;
        }
        // ISO 8601 only: a culture's forms ("01/31/2026", "31 Jan 2026") read differently from one
        // reader to the next. A date alone is its midnight, a time without an offset UTC.
        if (TryTime(value) is { } time)
        {
            return time;
        }
        // A + written as it is in a URL's query arrives as a space: an offset such as +02:00 then
        // reads " 02:00", and the time is refused for a reason the caller cannot see.
        var space = value.LastIndexOf(' ');
        if (space > 10 && IsoTime().IsMatch(string.Concat(value.AsSpan(0, space), "+", value.AsSpan(space + 1))))
        {
            throw new HeraldException(ErrorKind.BadRequest,
                $"{field} must be an ISO 8601 time such as 2026-01-31T12:00:00Z; its offset's + arrived as a space: in a URL, write + as %2B (…T12:00:00%2B02:00)");
        }
        throw new HeraldException(ErrorKind.BadRequest, $"{field} must be an ISO 8601 time such as 2026-01-31T12:00:00Z");
    }

    /// <summary>Whether a text is a whole number in digits, however large (a sign allowed): one a field too small for it refused.</summary>
    public static bool IsWholeNumber(string? text) =>
        text is { Length: > 0 } && text.AsSpan(text[0] == '-' ? 1 : 0) is { Length: > 0 } digits && !digits.ContainsAnyExcept("0123456789");

    /// <summary>Refuses a window whose start is not before its end (either end may be left open).</summary>
    public static void Window(DateTimeOffset? since, DateTimeOffset? until)
    {
        if (since >= until)
        {
            throw new HeraldException(ErrorKind.BadRequest, "since must be before until");
        }
    }

    /// <summary>The time an ISO 8601 text names, as <see cref="Time"/> reads it; null when it names none (the portal's forms say so their own way).</summary>
    public static DateTimeOffset? TryTime(string value) =>
        IsoTime().Match(value) is { Success: true } iso ? FromIso(iso) : null;

    /// <summary>
    /// The UTC time an ISO 8601 match names: digits beyond a tick (100 ns) dropped, and a time its
    /// offset puts beyond the calendar's first or last day taken as that end. Null when it names
    /// no time (a 13th month, an offset beyond 14 hours).
    /// </summary>
    private static DateTimeOffset? FromIso(System.Text.RegularExpressions.Match iso)
    {
        var fraction = iso.Groups["fraction"].Value;
        var time = iso.Groups["time"].Value;
        var local = iso.Groups["date"].Value + (time.Length > 0 ? "T" + time[..^fraction.Length] + fraction[..Math.Min(fraction.Length, 8)] : "");
        if (!DateTime.TryParse(local, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            return null;
        }
        var offset = TimeSpan.Zero;
        if (iso.Groups["offset"].Value is [('+' or '-') and var sign, ..] written)
        {
            // ASCII digits only (the pattern takes no others): hours up to 14, minutes below 60.
            var digits = written[1..].Replace(":", "", StringComparison.Ordinal);
            var hours = (digits[0] - '0') * 10 + (digits[1] - '0');
            var minutes = (digits[2] - '0') * 10 + (digits[3] - '0');
            if (minutes >= 60 || hours * 60 + minutes > 14 * 60)
            {
                return null;
            }
            offset = new TimeSpan(hours, minutes, 0) * (sign == '-' ? -1 : 1);
        }
        var ticks = at.Ticks - offset.Ticks;
        return ticks < 0 ? DateTimeOffset.MinValue : ticks > DateTimeOffset.MaxValue.UtcTicks ? DateTimeOffset.MaxValue : new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})([Tt ](?<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}(?<fraction>\.[0-9]{1,9})?)?)(?<offset>Z|z|[+-][0-9]{2}:?[0-9]{2})?)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex IsoTime();
}
