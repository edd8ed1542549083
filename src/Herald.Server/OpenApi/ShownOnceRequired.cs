using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A create marked <see cref="ShownOnce"/> answers the field in every 201, a string: its schema
/// there is the resource's, with that field required and never null. The resource's own schema,
/// shared with the reads that leave the field out, stays as it is.
/// </summary>
internal sealed class ShownOnceRequired : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var fields = context.Description.ActionDescriptor.EndpointMetadata.OfType<ShownOnce>().Select(s => s.Field).ToList();
        if (fields.Count == 0 || operation.Responses?.TryGetValue("201", out var created) != true
            || created is not OpenApiResponse { Content: { } content } || !content.TryGetValue("application/json", out var media) || media.Schema is not { } resource)
        {
            return Task.CompletedTask;
        }
        media.Schema = new OpenApiSchema
        {
            AllOf =
            [
                resource,
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string>(fields, StringComparer.Ordinal),
                    Properties = fields.ToDictionary(f => f, _ => (IOpenApiSchema)new OpenApiSchema { Type = JsonSchemaType.String }, StringComparer.Ordinal),
                },
            ],
        };
        return Task.CompletedTask;
    }
}
