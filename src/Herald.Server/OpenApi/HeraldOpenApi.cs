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
                // The address the document was read at ends in '/', and every path begins with one: a
                // client joining the two would call //v1/..., which no route answers.
                foreach (var server in document.Servers ?? [])
                {
                    server.Url = server.Url is { Length: > 1 } url ? url.TrimEnd('/') : server.Url;
                }
                return Task.CompletedTask;
            });
            o.AddDocumentTransformer<BearerKeys>();
            o.AddDocumentTransformer<ErrorResponses>();
            o.AddDocumentTransformer<CreatedLocation>();
            o.AddOperationTransformer<IdempotencyKeyParameter>();
            o.AddOperationTransformer<ShownOnceRequired>();
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
