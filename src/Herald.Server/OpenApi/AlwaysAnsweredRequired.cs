using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A route marked <see cref="AlwaysAnswered"/> answers those fields in every answer of their
/// status, never null: its schema there is the resource's, with those fields required and of
/// their type alone. The resource's own schema, shared with the answers that leave them out, stays
/// as it is.
/// </summary>
internal sealed class AlwaysAnsweredRequired : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var status in context.Description.ActionDescriptor.EndpointMetadata.OfType<AlwaysAnswered>().GroupBy(a => a.Status))
        {
            if (operation.Responses?.TryGetValue(status.Key, out var answer) != true
                || answer is not OpenApiResponse { Content: { } content } || !content.TryGetValue("application/json", out var media) || media.Schema is not { } resource)
            {
                continue;
            }
            media.Schema = new OpenApiSchema
            {
                AllOf =
                [
                    resource,
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string>(status.Select(a => a.Field), StringComparer.Ordinal),
                        Properties = status.ToDictionary(a => a.Field, a => (IOpenApiSchema)new OpenApiSchema
                        {
                            Type = a.Type,
                            Items = a.Items is { } items ? new OpenApiSchemaReference(items, context.Document) : null,
                        }, StringComparer.Ordinal),
                    },
                ],
            };
        }
        return Task.CompletedTask;
    }
}
