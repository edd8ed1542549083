using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>, describing the API as it answers: the field
/// names and types its bodies have, the status each route answers.
/// </summary>
internal static class HeraldOpenApi
{
    public static IServiceCollection AddHeraldOpenApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => ApiJsonShape.Configure(o.SerializerOptions));
        return services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Herald API";
                document.Info.Description = "Payment notifications: record state changes of payment intents, payment orders and transactions; Herald delivers them to merchants' endpoints.";
                // Relative, never the address the document was read at: that names the request's Host,
                // so a document fetched with a forged one (through a cache, say) would send a client,
                // and its key, to the forger's host; Herald has no public address of its own to name.
                // Without its '/' (the path base, empty at the root): every path begins with one, and a
                // client joining the two would call //v1/..., a host named v1.
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = Uri.TryCreate(server.Url, UriKind.Absolute, out var read) ? read.AbsolutePath.TrimEnd('/') : "";
                }
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer<BearerKeys>();
            o.AddDocumentTransformer<ErrorResponses>();
            o.AddDocumentTransformer<CreatedLocation>();
            o.AddOperationTransformer<IdempotencyKeyParameter>();
            o.AddOperationTransformer<AlwaysAnsweredRequired>();
            o.AddSchemaTransformer<AssignedFieldsReadOnly>();
            o.AddSchemaTransformer<ApiTimes>();
            o.AddSchemaTransformer<ValueRules>();
            o.AddOperationTransformer<ValueRules>();
            o.AddDocumentTransformer<ValueRules>();
            o.AddDocumentTransformer<WebhookPayloads>();
            o.AddDocumentTransformer<TransactionChangeData>();
            o.AddDocumentTransformer<UnknownFieldsRefused>();
            o.AddDocumentTransformer<TransactionAnswersWhole>();
        });
    }

    /// <summary>The operations of the API proper (<c>/v1</c>), apart from health, metrics and this document.</summary>
    internal static IEnumerable<OpenApiOperation> ApiOperations(OpenApiDocument document) => Operations(document, api: true);

    /// <summary>The operations of the API proper (<paramref name="api"/>), or the others (health).</summary>
    internal static IEnumerable<OpenApiOperation> Operations(OpenApiDocument document, bool api) =>
        document.Paths
            .Where(path => path.Key.StartsWith("/v1/", StringComparison.Ordinal) == api)
            .SelectMany(path => path.Value.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>());
}
