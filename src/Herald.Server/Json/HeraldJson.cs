using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Errors;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Json;

/// <summary>
/// Strict reading of request bodies: unknown fields, duplicate keys, wrong types, bad UTF-8 and
/// over-deep documents are refused with a message naming the field.
/// </summary>
public static class HeraldJson
{
    /// <summary>Herald's own resources: snake_case.</summary>
    public static JsonSerializerOptions Api { get; } = Create(JsonNamingPolicy.SnakeCaseLower);

    /// <summary>Seed 003's transaction fields: camelCase, as the seed writes them.</summary>
    public static JsonSerializerOptions Seed { get; } = Create(JsonNamingPolicy.CamelCase);

    private static JsonSerializerOptions Create(JsonNamingPolicy naming)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = naming,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            MaxDepth = 32,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            // Secrets (base64 '+') and names (accents) read as they are; the output is still valid JSON.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new TextConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private const string NulRefused = "a text may not contain the NUL character (\\u0000)";

    /// <summary>
    /// A text field as it is, unless it holds the NUL character: PostgreSQL's text refuses it, so
    /// the same request would be stored on SQLite and fail on PostgreSQL. Refused on both alike.
    /// </summary>
    private sealed class TextConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            return text is not null && text.Contains('\0', StringComparison.Ordinal) ? throw new JsonException(NulRefused) : text;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    /// <summary>Reads and validates the request body as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeraldException(ErrorKind.BadRequest, "the request body must be JSON (Content-Type: application/json)");
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, options ?? Api, request.HttpContext.RequestAborted);
            return value ?? throw new HeraldException(ErrorKind.BadRequest, "the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, Describe(e));
        }
    }

    /// <summary>Validates an already parsed object as <typeparamref name="T"/>.</summary>
    public static T Validate<T>(System.Text.Json.Nodes.JsonObject node, JsonSerializerOptions options, string where)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            return node.Deserialize<T>(options) ?? throw new HeraldException(ErrorKind.BadRequest, $"{where} must be an object");
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{where}: {Describe(e)}");
        }
    }

    private static string Describe(JsonException e)
    {
        var path = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
        var message = e.Message;
        if (message == NulRefused)
        {
            return message + path;
        }
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.DecoderFallbackException || inner.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)
                || inner.Message.Contains("transcode", StringComparison.OrdinalIgnoreCase))
            {
                return $"malformed JSON: the body is not valid UTF-8{path}";
            }
        }
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var start = message.IndexOf('\'', StringComparison.Ordinal);
            var end = start >= 0 ? message.IndexOf('\'', start + 1) : -1;
            var name = start >= 0 && end > start ? message[(start + 1)..end] : "?";
            return $"unknown field '{name}'{path}";
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
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase) && message.Contains("non-nullable", StringComparison.OrdinalIgnoreCase))
        {
            return $"a value may not be null{path}";
        }
        if (message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "the JSON document is nested too deeply";
        }
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"wrong type of value{path}";
        }
        if (message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase) || message.Contains("invalid", StringComparison.OrdinalIgnoreCase))
        {
            return $"malformed JSON{path}";
        }
        return $"malformed JSON{path}";
    }
}
