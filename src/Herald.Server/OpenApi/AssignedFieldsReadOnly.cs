using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A transaction's fields Herald sets (<see cref="TransactionDocument.Assigned"/>) are read-only:
/// answered, but refused in a create, so a client leaves them out of its request.
/// </summary>
internal sealed class AssignedFieldsReadOnly : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is { } property && property.DeclaringType == typeof(TransactionDocument)
            && TransactionDocument.Assigned.Contains(property.Name))
        {
            schema.ReadOnly = true;
        }
        return Task.CompletedTask;
    }
}
