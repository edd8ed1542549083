using System.Text.Json;
using Herald.Errors;

namespace Herald.Server.Json;

// Strict reading: what the serializer's failures are told as, in the client's words.
public static partial class HeraldJson
{
    /// <summary>
    /// What is wrong, and where: under <paramref name="root"/> when the node read is a member of the
    /// body; a value of the wrong type says what its field takes, found in <paramref name="type"/>.
    /// </summary>
    private static string Describe(JsonException e, string? root, Type type, JsonSerializerOptions options)
    {
        var at = root is null || string.IsNullOrEmpty(e.Path) ? e.Path : root + e.Path[1..];
        if (e is TreeException tree)
        {
            return $"{tree.What} at {(string.IsNullOrEmpty(at) ? root ?? "$" : at)}{tree.Within}";
        }
        var path = string.IsNullOrEmpty(at) || at == "$" ? "" : $" at {at}";
        var message = e.Message;
        if (e is RefusedValue)
        {
            return message + path;
        }
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.DecoderFallbackException || inner.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)
                || inner.Message.Contains("transcode", StringComparison.OrdinalIgnoreCase))
            {
                return NotUtf8 + path;
            }
            if (inner.Message.Contains("UTF-16", StringComparison.OrdinalIgnoreCase))
            {
                return NotUnicode + path;
            }
        }
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start >= 0 ? message.IndexOf('\'', start + 1) : -1;
            var name = start >= 0 && end > start ? message[(start + 1)..end] : "?";
            // The reader puts U+FFFD for the bytes of a name that are not UTF-8; a client hardly
            // sends that character itself, and a field so named is unknown either way.
            return name.Contains('\uFFFD', StringComparison.Ordinal) ? NotUtf8Name + path : $"unknown field {HeraldException.Quote(name)}{path}";
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return $"duplicate field{path}";
        }
        if (message.Contains("missing required properties", StringComparison.Ordinal) || message.Contains("missing required", StringComparison.Ordinal))
        {
            var colon = message.IndexOf("including:", StringComparison.Ordinal);
            var names = colon >= 0 ? message[(colon + 10)..].Trim().TrimEnd('.') : "";
            return $"missing required field {names}{path}".Replace("  ", " ", StringComparison.Ordinal);
        }
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase)
            && (message.Contains("non-nullable", StringComparison.OrdinalIgnoreCase) || message.Contains("allow null", StringComparison.Ordinal) || message.Contains("allow setting null", StringComparison.Ordinal)))
        {
            return $"a value may not be null{path}";
        }
        if (message.StartsWith("The input does not contain any JSON tokens", StringComparison.Ordinal) && root is null)
        {
            return NoJson;
        }
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "the JSON document is nested too deeply";
        }
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            // Every body is an object: one that is a list, a text or a number is wrong as a whole.
            return path.Length == 0 && root is null ? NotAnObject
                : ExpectedValue.At(type, options, e.Path) is { } expected ? $"{expected} is expected{path}"
                : $"wrong type of value{path}";
        }
        return $"malformed JSON{path}{Where(e)}";
    }

    /// <summary>
    /// Where in the body the reader stopped, and why in its own words (<c> (line 1, byte 52): '0' is
    /// invalid after a value…</c>), for a body that is no JSON; empty when the reader gave no place.
    /// </summary>
    private static string Where(JsonException e)
    {
        if (e.LineNumber is not { } line || e.BytePositionInLine is not { } column)
        {
            return "";
        }
        var reason = e.Message;
        foreach (var tail in (string[])[" Path: ", " LineNumber: "])
        {
            if (reason.IndexOf(tail, StringComparison.Ordinal) is var cut and >= 0)
            {
                reason = reason[..cut];
            }
        }
        // Advice for the reader's own programmer is not the client's.
        reason = reason.Replace(" which is not supported in this mode. Change the reader options", "", StringComparison.Ordinal).Trim().TrimEnd('.');
        return reason.Length == 0 || reason.Contains("could not be converted", StringComparison.Ordinal)
            ? $" (line {line + 1}, byte {column + 1})"
            : $" (line {line + 1}, byte {column + 1}): {reason}";
    }
}
