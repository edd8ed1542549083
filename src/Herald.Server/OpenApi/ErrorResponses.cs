using System.Text.Json.Nodes;
using Herald.Server.Errors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>The refusals and failures every <c>/v1</c> route may answer, all in the one <see cref="ErrorBody"/> shape.</summary>
internal sealed class ErrorResponses : IOpenApiDocumentTransformer
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
        foreach (var operation in HeraldOpenApi.ApiOperations(document))
        {
            operation.Responses ??= [];
            // The default answer, not 4XX and 5XX: NSwag (behind dotnet-openapi and OpenApiReference)
            // writes a range as "status_ == 4XX", and the client it makes does not compile.
            var answer = Error(document,
                "Refused: a bad request (400), a missing or unknown key (401), a key that may not do this (403), not found (404), "
                + "a method the route does not take (405), a conflict (409), a body, or the entity it would make, too large (413), a body that is not JSON in UTF-8 (415), "
                + "an Idempotency-Key reused for another request (422), too many requests (429, with Retry-After). "
                + "Or Herald could not do it now (503, with Retry-After: its database unavailable, or a queue full; nothing was done, but for a change the database went away under, "
                + "which may still be recorded: a retry with the same Idempotency-Key records it once) or failed (500).");
            answer.Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "With a 429 or a 503: the seconds to wait before asking again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                },
            };
            operation.Responses["default"] = answer;
        }
    }

    private static OpenApiResponse Error(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
        {
            ["application/json"] = new() { Schema = new OpenApiSchemaReference(SchemaId, document) },
        },
    };
}
