using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// Herald's OpenAPI document as a contract real answers are held to: the status must be one the
/// route lists, a 201 must carry Location, and the body must validate against the document's own
/// JSON Schema for that route and status, as a client generated from it would read it.
/// </summary>
/// <remarks>
/// Stricter than the document on purpose: an object with fields listed takes no other field, so a
/// field an answer carries that its schema leaves out fails too (a generated client would drop it).
/// Formats are checked (<c>date-time</c>); OpenAPI's own (<c>int32</c>, <c>decimal</c>, ...) are
/// not JSON Schema's and are left to the types.
/// </remarks>
public sealed class OpenApiContract
{
    private static readonly HashSet<string> OpenApiFormats = new(["int32", "int64", "float", "double", "decimal"], StringComparer.Ordinal);
    private static readonly string[] NotSchemas = ["example", "examples", "default", "enum", "const"];

    private readonly JsonObject _document;
    private readonly JsonObject _closedDefinitions;
    private readonly JsonObject _definitions;
    private int _built;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _called = new(StringComparer.Ordinal);

    private static readonly HashSet<string> Methods = new(["get", "put", "post", "delete", "options", "head", "patch", "trace"], StringComparer.Ordinal);

    private OpenApiContract(JsonObject document)
    {
        _document = document;
        _closedDefinitions = Strict(document["components"]!["schemas"]!.DeepClone(), close: true).AsObject();
        _definitions = Strict(document["components"]!["schemas"]!.DeepClone(), close: false).AsObject();
    }

    public static async Task<OpenApiContract> LoadAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new OpenApiContract(await client.GetJsonAsync("/openapi/v1.json"));
    }

    /// <summary>Every operation of the document, as <c>GET /v1/endpoints/{id}</c>.</summary>
    public IEnumerable<string> Operations =>
        _document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(operation => Methods.Contains(operation.Key))
            .Select(operation => Operation(operation.Key, path.Key)));

    /// <summary>The operations an answer was checked for, as <see cref="Operations"/> names them.</summary>
    public IReadOnlyCollection<string> Called => [.. _called.Keys];

    private static string Operation(string method, string path) => $"{method.ToUpperInvariant()} {path}";

    /// <summary>
    /// Asserts that <paramref name="response"/> is one the document gives the operation
    /// <paramref name="method"/> <paramref name="path"/> (a template: <c>/v1/endpoints/{id}</c>); answers its body.
    /// </summary>
    public async Task<JsonNode?> AssertAnswersAsDocumentedAsync(HttpResponseMessage response, string method, string path)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var where = $"{method.ToUpperInvariant()} {path} answered {status}";
        var operation = _document["paths"]?[path]?[method.ToLowerInvariant()];
        Assert.True(operation is not null, $"{where}: the document has no such operation");
        _called[Operation(method, path)] = 0;
        var responses = operation!["responses"]!.AsObject();
        // A refusal a route can answer (400 to 429, 503) is listed under its own status: a client
        // tells them apart by it. The default answer stands for a failure of Herald's (500) alone.
        var listed = status is >= 400 and < 500 or 503
            ? [status.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            : new[] { status.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{status / 100}XX", "default" };
        var key = listed.FirstOrDefault(responses.ContainsKey);
        Assert.True(key is not null, $"{where}, a status the document does not list ({string.Join(", ", responses.Select(r => r.Key))}): {text}");
        if (status == (int)HttpStatusCode.Created)
        {
            Assert.True(response.Headers.Location is not null, $"{where} without Location");
        }
        if (status is 429 or 503)
        {
            Assert.True(response.Headers.RetryAfter is not null, $"{where} without Retry-After");
        }
        var content = responses[key!]!["content"]?.AsObject();
        if (content is null)
        {
            Assert.True(text.Length == 0, $"{where} with a body the document does not describe: {text}");
            return null;
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "(none)";
        Assert.True(content.ContainsKey(mediaType), $"{where} as {mediaType}, not {string.Join(", ", content.Select(c => c.Key))}");
        var body = JsonNode.Parse(text);
        var errors = Validate(content[mediaType]!["schema"]!, body);
        Assert.True(errors.Count == 0, $"{where} with a body its schema refuses:\n{string.Join("\n", errors)}\n{text}");
        return body;
    }

    /// <summary>
    /// What <paramref name="schema"/> (one of the document's, its references to components) finds wrong in
    /// <paramref name="instance"/>: as an answer, every object closed to fields it does not list (<paramref name="closed"/>),
    /// or as the document has it, as a client would check a request before sending it.
    /// </summary>
    public List<string> Validate(JsonNode schema, JsonNode? instance, bool closed = true)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = (closed ? _closedDefinitions : _definitions).DeepClone(),
            ["allOf"] = new JsonArray(Strict(schema.DeepClone(), closed)),
        };
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var built = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() },
            new Uri($"urn:herald:openapi:{Interlocked.Increment(ref _built)}"));
        using var json = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var results = built.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        return results.IsValid
            ? []
            : (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({d.EvaluationPath})"))
                .ToList();
    }

    /// <summary>The schemas under <paramref name="node"/>, OpenAPI's formats removed, and with <paramref name="close"/> every object with listed fields closed to others.</summary>
    private static JsonNode Strict(JsonNode node, bool close, bool closeThis = true)
    {
        if (node is JsonObject obj)
        {
            // The parts of an allOf each list some of the fields: closed, each would refuse the others'.
            if (close && closeThis && obj.ContainsKey("properties") && !obj.ContainsKey("additionalProperties"))
            {
                obj["additionalProperties"] = false;
            }
            if (obj["format"] is JsonValue format && format.TryGetValue<string>(out var name) && OpenApiFormats.Contains(name))
            {
                obj.Remove("format");
            }
            foreach (var (key, value) in obj.ToList())
            {
                if (value is JsonArray parts && key == "allOf")
                {
                    foreach (var part in parts.OfType<JsonNode>())
                    {
                        Strict(part, close, closeThis: false);
                    }
                }
                else if (value is not null && !NotSchemas.Contains(key))
                {
                    Strict(value, close);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var item in array.OfType<JsonNode>())
            {
                Strict(item, close);
            }
        }
        return node;
    }
}
