using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// A body's unknown field is refused (400, <c>unknown field 'x' at $.x</c>): the schemas only requests
/// use say so (<c>additionalProperties: false</c>), so a client or validator working from the document
/// refuses a misspelt field before Herald does, instead of sending it.
/// </summary>
/// <remarks>
/// A schema that answers use too (a transaction, its customer, a Point intent's payment) is left
/// open: closing it would tell a client validating answers to refuse a field a later Herald adds.
/// </remarks>
internal sealed class UnknownFieldsRefused : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        if (document.Components?.Schemas is not { } components)
        {
            return Task.CompletedTask;
        }
        var operations = document.Paths.Values.SelectMany(path => path.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()).ToList();
        var requests = Reached(components, operations
            .SelectMany(o => o.RequestBody?.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>())
            .Select(media => media.Schema));
        var answers = Reached(components, operations
            .SelectMany(o => o.Responses?.Values ?? Enumerable.Empty<IOpenApiResponse>())
            .SelectMany(r => r.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>())
            .Select(media => media.Schema));
        foreach (var id in requests.Except(answers))
        {
            if (components.TryGetValue(id, out var found) && found is OpenApiSchema { Properties.Count: > 0, AdditionalProperties: null } schema)
            {
                schema.AdditionalPropertiesAllowed = false;
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>The ids of the component schemas <paramref name="roots"/> refer to, at any depth.</summary>
    private static HashSet<string> Reached(IDictionary<string, IOpenApiSchema> components, IEnumerable<IOpenApiSchema?> roots)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<IOpenApiSchema>(roots.OfType<IOpenApiSchema>());
        while (pending.TryPop(out var schema))
        {
            if (schema is OpenApiSchemaReference { Reference.Id: { } id })
            {
                if (found.Add(id) && components.TryGetValue(id, out var target))
                {
                    pending.Push(target);
                }
                continue;
            }
            foreach (var inner in (schema.Properties?.Values ?? Enumerable.Empty<IOpenApiSchema>())
                .Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []).Concat(schema.AllOf ?? [])
                .Append(schema.Items).Append(schema.AdditionalProperties).OfType<IOpenApiSchema>())
            {
                pending.Push(inner);
            }
        }
        return found;
    }
}
