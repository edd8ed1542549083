using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Scalar.AspNetCore;

namespace Herald.Server.OpenApi;

/// <summary>
/// The interactive API reference at <c>/docs</c>: Scalar's page, reading Herald's own OpenAPI
/// document, open without a key like the document itself (a call tried from it takes one).
/// </summary>
internal static class ApiReference
{
    public const string Path = "/docs";

    /// <summary>
    /// What the browser lets the page do: load, and send requests to, Herald alone (the page's own
    /// inline set-up script and styles aside), and never be framed by another site.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public static void MapApiReference(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path))
            {
                context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                context.Response.Headers.XContentTypeOptions = "nosniff";
            }
            return next(context);
        });
        app.MapScalarApiReference(Path, o => o
            .WithTitle("Herald API")
            .AddPreferredSecuritySchemes("bearer")
            .ShowOperationId()
            // Everything the page loads comes from Herald: its script is the bundle the package
            // embeds, served beside the page. What would reach Scalar's own services is off: the
            // default fonts (their CDN), the telemetry, the AI chat and the toolbar whose buttons
            // share or deploy the document there. So the page works on a host that reaches no
            // other, and shows nothing of Herald's elsewhere.
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .HideDeveloperTools());
    }
}
