using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>The API's authentication, as Caller checks it: a bearer key on every <c>/v1</c> route, none elsewhere.</summary>
internal sealed class BearerKeys : IOpenApiDocumentTransformer
{
    public const string SchemeId = "bearer";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key, sent as Authorization: Bearer <key>: a merchant's key (hk_…) reaches that merchant's data, "
                + "the admin key (hk_admin_…) the merchants and the operator webhooks.",
        };
        foreach (var operation in HeraldOpenApi.ApiOperations(document))
        {
            (operation.Security ??= []).Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, document)] = [] });
        }
        // Health answers anyone: an empty requirement says so, where none would leave it unsaid.
        foreach (var operation in HeraldOpenApi.Operations(document, api: false))
        {
            operation.Security = [];
        }
        return Task.CompletedTask;
    }
}
