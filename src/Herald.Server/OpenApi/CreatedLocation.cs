using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>Every create (201) answers <c>Location</c>, the path of what it made (see <c>JsonResults.Created</c>).</summary>
internal sealed class CreatedLocation : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var operation in HeraldOpenApi.ApiOperations(document))
        {
            if (operation.Responses?.TryGetValue("201", out var created) == true && created is OpenApiResponse response)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
                response.Headers["Location"] = new OpenApiHeader
                {
                    // Every 201 carries it (an idempotent replay of a create too): a client may rely on it.
                    Required = true,
                    Description = "The path of what was made, where it is read (and a key revoked, an operator webhook paused, tested or deleted).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                };
            }
        }
        return Task.CompletedTask;
    }
}
