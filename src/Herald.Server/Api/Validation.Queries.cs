using System.Globalization;
using Herald.Errors;

namespace Herald.Server.Api;

// Checks shared by several routes: a list's limit, cursors and filters, and times.
internal static partial class Validation
{
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
        if (!string.IsNullOrEmpty(value) && !IsOfKind(value, prefix))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must be {what} id ({prefix}_…), not {HeraldException.Quote(value)}");
        }
    }

    /// <summary>Whether an id is of the kind <paramref name="prefix"/> names (<c>ep_…</c>), whether or not it names anything.</summary>
    public static bool IsOfKind(string value, string prefix) => value.StartsWith(prefix + "_", StringComparison.Ordinal);

    /// <summary>Whether a query's or a form's fields hold the NUL character, in a name or a value.</summary>
    public static bool HoldsNul(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> fields) =>
        fields.Any(field => field.Key.Contains('\0', StringComparison.Ordinal) || field.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true));

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
