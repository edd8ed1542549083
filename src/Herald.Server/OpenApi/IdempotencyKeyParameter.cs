using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>The optional <c>Idempotency-Key</c> header of the routes marked with <see cref="IdempotencyKeyHeader"/>.</summary>
internal sealed class IdempotencyKeyParameter : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotencyKeyHeader>().Any())
        {
            (operation.Parameters ??= []).Add(new OpenApiParameter
            {
                Name = IdempotencyKeyHeader.Name,
                In = ParameterLocation.Header,
                Description = "Makes a retried call safe: a repeat with the same key and the same fields and values (in any order) answers "
                    + "as the first call did and changes nothing more; the same key with another request, on this route or another, is refused (422).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyKeyHeader.MaxLength },
            });
        }
        return Task.CompletedTask;
    }
}
