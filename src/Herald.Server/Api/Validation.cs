using Herald.Entities;
using Herald.Errors;

namespace Herald.Server.Api;

/// <summary>Checks shared by several routes.</summary>
internal static partial class Validation
{
    public const int MaxUrlLength = 2048;
    public const int MaxText = 1024;

    /// <summary>The length of the texts Herald keeps short: a Point intent's ticket number, a payment order's preference id.</summary>
    public const int MaxShortText = 64;

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

}
