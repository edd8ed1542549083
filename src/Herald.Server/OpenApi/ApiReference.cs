using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Scalar.AspNetCore;

namespace Herald.Server.OpenApi;

/// <summary>
/// The interactive API reference at <c>/docs</c>: Scalar's page, reading Herald's own OpenAPI
/// document, open without a key like the document itself (a call tried from it takes one).
/// </summary>
internal static partial class ApiReference
{
    public const string Path = "/docs";

    /// <summary>
    /// What the browser lets the page do: load, and send requests to, Herald alone, run no script
    /// but Herald's files and the page's own inline set-up script (by its hash, put in by
    /// <see cref="WithScriptHashes"/>: the page shares the portal's origin, so a script injected into
    /// it would reach the portal's session), and never be framed by another site.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'{0}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    /// <summary>The policy for what runs no inline script: the page's files.</summary>
    private static readonly string NoInlineScript = string.Format(System.Globalization.CultureInfo.InvariantCulture, ContentSecurityPolicy, "");

    /// <summary>The policy for a page whose inline scripts are <paramref name="html"/>'s: each allowed by its SHA-256, no other.</summary>
    internal static string WithScriptHashes(string html) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, ContentSecurityPolicy, string.Concat(InlineScripts().Matches(html)
            .Select(m => $" 'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(m.Groups["body"].Value)))}'")
            .Distinct(StringComparer.Ordinal)));

    [System.Text.RegularExpressions.GeneratedRegex(@"<script(?![^>]*\ssrc\s*=)[^>]*>(?<body>[\s\S]*?)</script>", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex InlineScripts();

    [System.Text.RegularExpressions.GeneratedRegex(@"<html(?![^>]*\slang\s*=)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex HtmlWithoutLanguage();

    public static void MapApiReference(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(Path, out var rest))
            {
                await next(context);
                return;
            }
            context.Response.Headers.XContentTypeOptions = "nosniff";
            // Herald has one document: the page at another name (/docs/v1, which the package also
            // answers) is sent to the page's own address, the one whose inline script is allowed.
            if (rest.HasValue && rest.Value != "/" && !rest.Value!.Contains('.', StringComparison.Ordinal))
            {
                context.Response.Redirect(context.Request.PathBase + Path + "/");
                return;
            }
            // Its files (the script bundle, the document's icon) run no inline script: sent as they come.
            if (rest.HasValue && rest.Value != "/")
            {
                context.Response.Headers.ContentSecurityPolicy = NoInlineScript;
                await next(context);
                return;
            }
            // The page itself (a kilobyte) is held until its inline script is read, to allow that one alone.
            var body = context.Response.Body;
            using var page = new MemoryStream();
            context.Response.Body = page;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
            }
            var html = System.Text.Encoding.UTF8.GetString(page.GetBuffer(), 0, (int)page.Length);
            context.Response.Headers.ContentSecurityPolicy = WithScriptHashes(html);
            // The page says its language, which the package leaves out: a screen reader reads it
            // as English rather than guessing, and translators leave it be.
            var sent = System.Text.Encoding.UTF8.GetBytes(HtmlWithoutLanguage().Replace(html, "<html lang=\"en\"", 1));
            if (context.Response.ContentLength is not null)
            {
                context.Response.ContentLength = sent.Length;
            }
            await body.WriteAsync(sent, context.RequestAborted);
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
