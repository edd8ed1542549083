using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Herald.Errors;

namespace Herald.Server.Json;

/// <summary>
/// Strict reading of request bodies: unknown fields, duplicate keys, wrong types, bad UTF-8 and
/// over-deep documents are refused with a message naming the field.
/// </summary>
public static partial class HeraldJson
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
        options.Converters.Add(new DecimalConverter());
        options.Converters.Add(new WholeNumberConverter<int>());
        options.Converters.Add(new WholeNumberConverter<long>());
        options.Converters.Add(new TreeConverter<JsonNode>());
        options.Converters.Add(new TreeConverter<JsonObject>());
        options.Converters.Add(new TreeConverter<JsonArray>());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private const string NulRefused = "a text may not contain the NUL character (\\u0000)";

    // The same words for the same fault, whether it lies in a typed field or in a free-form tree.
    private const string NotUtf8 = "malformed JSON: the body is not valid UTF-8";
    private const string NotUtf8Name = "malformed JSON: a field's name is not valid UTF-8";
    private const string NotUnicode = "malformed JSON: a text is not valid Unicode (a lone surrogate)";

    private const string TooPrecise = "a number may have at most 28 significant digits and 28 decimal places";

    private const string NotWhole = "a whole number is expected";

    /// <summary>What is wrong with a value the serializer read, in words told as they are (with the value's path).</summary>
    private sealed class RefusedValue(string what) : JsonException(what);

    private const string NotAnObject = "the request body must be a JSON object";
    private const string NoJson = "the request body holds no JSON: it must be a JSON object";

    /// <summary>What a body sent as anything but JSON is told (415).</summary>
    public const string NotJson = "the request body must be JSON: send Content-Type: application/json";

    /// <summary>Reads and validates the request body as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonSerializerOptions? options = null) =>
        await ReadOrNullAsync<T>(request, options) ?? throw new HeraldException(ErrorKind.BadRequest, NotAnObject);

    /// <summary>
    /// For a route whose body is optional: none, or JSON's <c>null</c> (what a generated client, NSwag's,
    /// sends for an optional body left out), is <paramref name="none"/>; any other body is read as
    /// <see cref="ReadAsync{T}"/> reads it.
    /// </summary>
    public static async Task<T> ReadOptionalAsync<T>(HttpRequest request, T none) =>
        await HasBodyAsync(request) ? await ReadOrNullAsync<T>(request, options: null) ?? none : none;

    private static async Task<T?> ReadOrNullAsync<T>(HttpRequest request, JsonSerializerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(request);
        // application/json and nothing else (no type at all, a form, text, a +json dialect), in
        // UTF-8: a body read as JSON is read as UTF-8 whatever charset it names.
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, NotJson);
        }
        var charset = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(type.Charset);
        if (charset.HasValue && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, $"the request body must be JSON in UTF-8, not {HeraldException.Quote(charset.Value)}: send Content-Type: application/json");
        }
        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && !encoding.All(e => "identity".Equals(e?.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            throw new HeraldException(ErrorKind.UnsupportedMediaType, "the request body must be sent uncompressed: send no Content-Encoding");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, options ?? Api, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, Describe(e, null, typeof(T), options ?? Api));
        }
    }

    /// <summary>
    /// Whether the request carries a body: a length above 0, or a body sent in chunks (or without a
    /// length) that holds at least a byte, which is then read again from its start.
    /// </summary>
    public static async Task<bool> HasBodyAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength is { } length)
        {
            return length > 0;
        }
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false)
        {
            return false;
        }
        request.EnableBuffering();
        var first = new byte[1];
        var read = await request.Body.ReadAsync(first, request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        return read > 0;
    }

    /// <summary>
    /// For a route that takes no body: none, or an empty JSON object. Anything else is refused as
    /// any body is (not JSON, malformed, a field, too large) before the route does anything.
    /// </summary>
    public static async Task RefuseBodyAsync(HttpRequest request)
    {
        if (await HasBodyAsync(request))
        {
            try
            {
                await ReadAsync<Herald.Server.Api.NoBodyRequest>(request);
            }
            catch (HeraldException e) when (e.Messages is [var only] && only.StartsWith("unknown field ", StringComparison.Ordinal))
            {
                // A field where none is taken: the route, not the field, is what the client has wrong.
                throw new HeraldException(ErrorKind.BadRequest, $"this route takes no body: send none, or {{}} ({only})");
            }
        }
    }

    /// <summary>Validates an already parsed object (a request's body, <paramref name="where"/>) as <typeparamref name="T"/>.</summary>
    public static T Validate<T>(JsonObject node, JsonSerializerOptions options, string where) => Validate<T>(node, options, where, root: null);

    /// <summary>
    /// Validates a member of a request's body, <paramref name="field"/>, as <typeparamref name="T"/>:
    /// what is wrong is named by its path in the body (<c>$.data.customer.name</c>).
    /// </summary>
    public static T ValidateField<T>(JsonObject node, JsonSerializerOptions options, string field) => Validate<T>(node, options, field, root: "$." + field);

    private static T Validate<T>(JsonObject node, JsonSerializerOptions options, string where, string? root)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            return node.Deserialize<T>(options) ?? throw new HeraldException(ErrorKind.BadRequest, $"{where} must be an object");
        }
        catch (JsonException e)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{where}: {Describe(e, root, typeof(T), options)}");
        }
    }

}
