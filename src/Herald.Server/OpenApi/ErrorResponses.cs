using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Herald.Server.Api;
using Herald.Server.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// The refusals each <c>/v1</c> route can answer, each under its own status and all in the one
/// <see cref="ErrorBody"/> shape: those its shape brings (a body, a query, an id in its path, the
/// keys it serves, an Idempotency-Key), which every route of that shape answers alike, and those
/// its handler declares (<see cref="Refusal"/>: a conflict, a limit of its own). A failure of
/// Herald's (500) is the default answer.
/// </summary>
internal sealed partial class ErrorResponses : IOpenApiDocumentTransformer
{
    public const string SchemaId = nameof(ErrorBody);

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schema = await context.GetOrCreateSchemaAsync(typeof(ErrorBody), cancellationToken: cancellationToken);
        // Kiota makes a field named message its exception's Message, a string, unless another field
        // is marked: message is a list here, and the client it made did not compile.
        if (schema.Properties?.TryGetValue("error", out var error) == true && error is OpenApiSchema primary)
        {
            primary.Extensions ??= new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal);
            primary.Extensions["x-ms-primary-error-message"] = new JsonNodeExtension(JsonValue.Create(true));
        }
        document.AddComponent<IOpenApiSchema>(SchemaId, schema);
        foreach (var route in context.DescriptionGroups.SelectMany(group => group.Items))
        {
            // A group's own route ("") is described with the group's '/' at its end, the document's path without.
            var path = "/" + route.RelativePath?.TrimEnd('/');
            if (!path.StartsWith("/v1/", StringComparison.Ordinal) || route.HttpMethod is null
                || document.Paths.TryGetValue(path, out var item) != true
                || item.Operations?.TryGetValue(new HttpMethod(route.HttpMethod), out var operation) != true)
            {
                continue;
            }
            operation!.Responses ??= [];
            // Each status, not 4XX and 5XX ranges: NSwag (behind dotnet-openapi and OpenApiReference)
            // writes a range as "status_ == 4XX", and the client it makes does not compile.
            foreach (var (status, reasons) in Refusals(route, path))
            {
                operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] =
                    Error(document, $"{ErrorBody.ReasonFor(status)}: {string.Join("; ", reasons)}.", status);
            }
            operation.Responses["default"] = Error(document, "Herald failed (500 internal error; its cause is in Herald's log).", StatusCodes.Status500InternalServerError);
        }
    }

    /// <summary>The statuses a route answers when it refuses, each with what it means there, by status.</summary>
    private static SortedDictionary<int, List<string>> Refusals(ApiDescription route, string path)
    {
        var metadata = route.ActionDescriptor.EndpointMetadata;
        var keys = metadata.OfType<KeysServed>().LastOrDefault() ?? new KeysServed(Admin: false, Merchant: true);
        var reads = HttpMethods.IsGet(route.HttpMethod!);
        var body = metadata.OfType<IAcceptsMetadata>().Any();
        var refusesBody = metadata.OfType<RefusesBody>().Any();
        var idempotent = metadata.OfType<IdempotencyKeyHeader>().Any();
        var query = route.ParameterDescriptions.Where(p => p.Source == BindingSource.Query).Select(p => p.Name).ToList();
        var found = PathIds().Matches(path).Select(m => Thing(m.Groups["collection"].Value)).ToList();
        var refusals = new SortedDictionary<int, List<string>>();
        void Add(int status, string reason) => (refusals.TryGetValue(status, out var reasons) ? reasons : refusals[status] = []).Add(reason);

        if (body)
        {
            Add(400, "a body that is not what the route takes (malformed JSON, a field unknown, missing, given twice, of the wrong type or out of range)");
        }
        if (refusesBody)
        {
            Add(400, "a body other than none or {}");
        }
        // Every route: StrictQuery refuses a query parameter it does not take, Caller a second key.
        Add(400, query.Count > 0
            ? $"a query parameter the route does not take (it takes {string.Join(", ", query)}), one given twice or empty, or a value out of its range"
            : "any query parameter (the route takes none)");
        if (idempotent)
        {
            Add(400, $"an {IdempotencyKeyHeader.Name} given empty, twice or over {IdempotencyKeyHeader.MaxLength} characters");
        }
        Add(400, "two Authorization headers");
        Add(401, "no API key, or one unknown or revoked");
        if (!keys.Merchant)
        {
            Add(403, "a merchant's key (the route is the admin's)");
        }
        else
        {
            if (!keys.Admin)
            {
                Add(403, "the admin key (the route is a merchant's)");
            }
            // Caller lets a read-only key GET and HEAD alone.
            if (!reads)
            {
                Add(403, "a read-only key (scope read; the route changes something)");
            }
        }
        if (found.Count > 0)
        {
            Add(404, $"the path names no {string.Join(", or no ", found)}{(keys.Admin ? "" : " of the key's merchant")}");
        }
        if (body || refusesBody)
        {
            Add(408, "the " + ErrorHandlingMiddleware.BodyTimedOut);
            Add(413, $"a body over {Hosting.HeraldServerOptions.MaxRequestBodyBytes / 1024} KB");
            Add(415, "a body sent as anything but JSON in UTF-8 (Content-Type: application/json), or compressed");
        }
        if (idempotent)
        {
            Add(422, $"the {IdempotencyKeyHeader.Name} was taken by another request of the merchant's (other fields or values, another route or entity)");
        }
        Add(429, "past the caller's rate of requests (its merchant's, or the admin key's), or too many unknown keys from its address");
        Add(503, reads
            ? "Herald's database cannot take requests now: nothing was done"
            : "Herald's database cannot take requests now: nothing was done, but for a change the database went away under, which may still be recorded"
                + (idempotent ? $" (a retry with the same {IdempotencyKeyHeader.Name} records it once)" : ""));
        foreach (var refusal in metadata.OfType<Refusal>())
        {
            Add(refusal.Status, refusal.When);
        }
        return refusals;
    }

    /// <summary>What an id in a path names, from the collection before it: <c>api_keys</c>, an API key.</summary>
    private static string Thing(string collection) =>
        collection.TrimEnd('s').Replace('_', ' ').Replace("api key", "API key", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<collection>[a-z_]+)/\{[^}]+\}")]
    private static partial Regex PathIds();

    private static OpenApiResponse Error(OpenApiDocument document, string description, int status) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
        {
            ["application/json"] = new() { Schema = new OpenApiSchemaReference(SchemaId, document) },
        },
        Headers = status switch
        {
            StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable => new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "The seconds to wait before asking again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                },
            },
            StatusCodes.Status401Unauthorized => new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
            {
                ["WWW-Authenticate"] = new OpenApiHeader
                {
                    Description = "Bearer: the scheme an API key is given in (Authorization: Bearer <key>).",
                    Required = true,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                },
            },
            _ => null,
        },
    };
}
