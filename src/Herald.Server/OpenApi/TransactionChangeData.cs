using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A transaction's transition takes as <c>data</c> the fields of seed 003 it changes, each held to
/// what a creation is: the transaction's own schema (<see cref="SchemaId"/>), with none of them
/// required, and neither <c>internalId</c> nor <c>status</c>, which Herald sets. The record the
/// route is described by holds <c>data</c> as any JSON object, which told a client nothing of it.
/// </summary>
internal sealed class TransactionChangeData : IOpenApiDocumentTransformer
{
    public const string SchemaId = "TransactionChange";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        if (document.Components?.Schemas is not { } schemas
            || !schemas.TryGetValue(nameof(TransactionDocument), out var found) || found is not OpenApiSchema { Properties: { } fields } transaction
            || !schemas.TryGetValue(nameof(TransactionTransition), out var shape) || shape is not OpenApiSchema { Properties: { } transition })
        {
            return Task.CompletedTask;
        }
        var change = (OpenApiSchema)transaction.CreateShallowCopy();
        change.Required = new HashSet<string>(StringComparer.Ordinal);
        change.Properties = fields.Where(f => !TransactionDocument.Assigned.Contains(f.Key))
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        // Herald refuses a field the transaction does not have, as it does in a creation.
        change.AdditionalPropertiesAllowed = false;
        change.Description = "The fields of the transaction the move changes (seed 003's names), each as a creation takes it.";
        document.AddComponent<IOpenApiSchema>(SchemaId, change);
        transition["data"] = new OpenApiSchema
        {
            OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, new OpenApiSchemaReference(SchemaId, document)],
        };
        return Task.CompletedTask;
    }
}
