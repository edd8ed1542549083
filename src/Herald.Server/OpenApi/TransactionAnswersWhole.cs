using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A transaction is answered whole: every field of seed 003's top level is there (null where the
/// platform left it out), and <c>internalId</c> and <c>status</c>, which Herald sets, never null. Its
/// schema is also what a create takes, where all but <c>currency</c> and <c>paymentAmount</c> may be
/// left out and those two are read-only; so each answer of a transaction is that schema with the
/// rest required, as a generated client should read it.
/// </summary>
internal sealed class TransactionAnswersWhole : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        if (document.Components?.Schemas?.TryGetValue(nameof(TransactionDocument), out var found) != true || found is not OpenApiSchema { Properties: { } fields })
        {
            return Task.CompletedTask;
        }
        var answers = document.Paths.Values
            .SelectMany(path => path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            .SelectMany(o => o.Responses ?? [])
            .Where(r => r.Key.StartsWith('2'))
            .SelectMany(r => r.Value.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>())
            .Where(media => media.Schema is OpenApiSchemaReference { Reference.Id: nameof(TransactionDocument) });
        foreach (var media in answers)
        {
            media.Schema = new OpenApiSchema
            {
                AllOf =
                [
                    media.Schema!,
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string>(fields.Keys, StringComparer.Ordinal),
                        Properties = TransactionDocument.Assigned.ToDictionary(
                            name => name, name => (IOpenApiSchema)NeverNull(fields.TryGetValue(name, out var field) ? field : null), StringComparer.Ordinal),
                    },
                ],
            };
        }
        return Task.CompletedTask;
    }

    /// <summary>A text that is always there: the values <paramref name="field"/> lists (a status's states), null not among them.</summary>
    private static OpenApiSchema NeverNull(IOpenApiSchema? field) => new()
    {
        Type = JsonSchemaType.String,
        Enum = field?.Enum is { Count: > 0 } values ? values.Where(value => value is not null).ToList() : null,
    };
}
