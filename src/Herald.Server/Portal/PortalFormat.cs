using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Server.Portal;

/// <summary>How the portal writes times and bodies.</summary>
public static class PortalFormat
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The id of the element that shows a form's refusal.</summary>
    public const string ErrorId = "form-error";

    /// <summary>
    /// Whether a message of a form's refusal is about <paramref name="field"/> (as the API names it: a
    /// message begins with the field's name, <c>timeout_seconds must be …</c>, <c>headers: line 2 …</c>).
    /// </summary>
    public static bool ErrorNames(string? error, string field) =>
        error is not null && error.Split("; ").Any(m => m.StartsWith(field, StringComparison.Ordinal)
            && (m.Length == field.Length || !(char.IsLetterOrDigit(m[field.Length]) || m[field.Length] == '_')));

    /// <summary><c>true</c> for a field the refusal names, so it is announced as invalid; left out otherwise.</summary>
    public static string? AriaInvalid(string? error, string field) => ErrorNames(error, field) ? "true" : null;

    /// <summary>What describes a field: its own hint, and the refusal when it names the field.</summary>
    public static string? DescribedBy(string? error, string field, string? hint = null) =>
        ErrorNames(error, field) ? (hint is null ? ErrorId : $"{ErrorId} {hint}") : hint;

    public static string Time(DateTimeOffset? t) =>
        t is null ? "—" : t.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A count and its noun, singular for one: <c>1 attempt</c>, <c>10,205 attempts</c>.</summary>
    public static string Count(long count, string one, string many) =>
        Number(count) + " " + (count == 1 ? one : many);

    /// <summary>A count with its thousands marked, as the log's counts are: <c>10,205</c>.</summary>
    public static string Number(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// A success rate (0 to 1) as a percentage to one decimal: never 100 % while an attempt failed,
    /// nor 0 % while one succeeded (2,000 of 2,001 would round to 100 %).
    /// </summary>
    public static string Percent(double rate) =>
        (Herald.Storage.Model.EndpointStats.Rounded(rate, 3) * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    /// <summary>The value a datetime-local input shows for a time (UTC; to the minute, or to the second when it has seconds).</summary>
    public static string Input(DateTimeOffset? t) =>
        t is null ? "" : t.Value.UtcDateTime.ToString(t.Value.Second == 0 && t.Value.Millisecond == 0 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>A JSON body indented for reading; anything that is not JSON as it came.</summary>
    public static string Json(string? body)
    {
        if (string.IsNullOrEmpty(body))
        {
            return "";
        }
        try
        {
            return JsonNode.Parse(body)?.ToJsonString(Indented) ?? body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
