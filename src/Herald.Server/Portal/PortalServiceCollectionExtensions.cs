using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Portal;

/// <summary>
/// The merchant portal at <c>/portal</c>: Razor Pages signed in with a merchant API key, kept in
/// a cookie session of its own (the API keeps its bearer keys), antiforgery on every form.
/// </summary>
public static class PortalServiceCollectionExtensions
{
    public const string BasePath = "/portal";

    /// <summary>The encrypted one-read cookie that carries a message or a new secret to the next page.</summary>
    public const string OnceCookie = "herald_portal_once";

    public static IServiceCollection AddHeraldPortal(this IServiceCollection services)
    {
        services.AddAuthentication(PortalAuth.Scheme)
            .AddCookie(PortalAuth.Scheme, cookie =>
            {
                cookie.Cookie.Name = PortalAuth.CookieName;
                cookie.Cookie.Path = BasePath;
                cookie.Cookie.HttpOnly = true;
                // Lax, so that a link to a portal page from elsewhere (a mail, a chat) opens it signed
                // in; what changes anything is a POST, which Lax never carries the cookie on from
                // another site, and which needs the antiforgery token besides.
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                // Secure whenever the portal is served over HTTPS (directly or behind a trusted proxy).
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.LoginPath = BasePath + "/signin";
                cookie.LogoutPath = BasePath + "/signout";
                cookie.AccessDeniedPath = BasePath + "/signin";
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                cookie.SlidingExpiration = true;
                cookie.Events = new CookieAuthenticationEvents { OnValidatePrincipal = PortalAuth.ValidateAsync };
                var redirect = cookie.Events.OnRedirectToLogin;
                cookie.Events.OnRedirectToLogin = context => redirect(ToSignIn(context));
            });
        services.AddAuthorization();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "herald_portal_af";
            o.Cookie.Path = BasePath;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The portal's own headers forbid framing on every answer (GuardAsync), not only on those that issue this cookie.
            o.SuppressXFrameOptionsHeader = true;
        });
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Portal/Pages";
                o.Conventions.AuthorizeFolder("/");
                o.Conventions.AllowAnonymousToPage("/SignIn");
                o.Conventions.AllowAnonymousToPage("/Link");
            })
            .ConfigureApplicationPartManager(parts =>
            {
                // Herald.Server is a library: its compiled pages are found by asking for its parts.
                var assembly = typeof(PortalServiceCollectionExtensions).Assembly;
                if (!parts.ApplicationParts.Any(p => p is AssemblyPart a && a.Assembly == assembly))
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            })
            .AddCookieTempDataProvider(o =>
            {
                o.Cookie.Name = OnceCookie;
                o.Cookie.Path = BasePath;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });
        return services;
    }

    /// <summary>
    /// A request with no session is sent to the sign-in page. A form posted once its session had
    /// ended (signed out in another tab, idle for 8 hours) did nothing: the sign-in page says so, and
    /// leads back to the form's page, not to its action. A sign-out so posted asked for what is so
    /// already: it is the bare sign-in page.
    /// </summary>
    private static Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> ToSignIn(
        Microsoft.AspNetCore.Authentication.RedirectContext<CookieAuthenticationOptions> context)
    {
        var request = context.Request;
        if (request.Path.Equals(BasePath + "/signout", StringComparison.OrdinalIgnoreCase))
        {
            context.RedirectUri = request.PathBase + BasePath + "/signin";
        }
        else if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            var page = new Microsoft.AspNetCore.Http.Extensions.QueryBuilder(
                request.Query.Where(q => !q.Key.Equals("handler", StringComparison.OrdinalIgnoreCase)));
            context.RedirectUri = request.PathBase + BasePath + "/signin" + new Microsoft.AspNetCore.Http.Extensions.QueryBuilder
            {
                { "ReturnUrl", request.PathBase + request.Path + page.ToQueryString() },
                { "form", "unsent" },
            }.ToQueryString();
        }
        return context;
    }

    /// <summary>What a portal page may load and run: its own scripts, styles and data, nothing from elsewhere.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    /// <summary>The headers every portal answer carries, its error pages included.</summary>
    public static void GuardHeaders(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var headers = response.Headers;
        headers.XFrameOptions = "DENY";
        // Scripts and everything else from the portal alone, so a text that slipped past the pages'
        // escaping still runs nothing; styles may be inline (the charts set their colours so).
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
    }

    /// <summary>Whether the request is for the portal (its pages, its assets).</summary>
    public static bool IsPortal(HttpRequest request) => request.Path.StartsWithSegments(BasePath, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Guards every portal answer, its errors and the rate limit's refusals included: no portal page
    /// may be framed (a framed page's buttons could be clicked through a decoy), nor read as another
    /// type than it says, nor leak its address to other sites; a refusal is not cached either. Set
    /// when the answer starts, as an error's answer clears the headers set before it.
    /// </summary>
    public static Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsPortal(context.Request))
        {
            context.Response.OnStarting(static state =>
            {
                var response = (HttpResponse)state;
                GuardHeaders(response);
                if (response.StatusCode >= StatusCodes.Status400BadRequest)
                {
                    response.Headers.CacheControl = "no-store";
                }
                return Task.CompletedTask;
            }, context.Response);
            // The portal's cookies are for /portal, as a browser compares paths: in any other case
            // (/Portal/SignIn) a page answered but its sign-in failed, the cookies not sent back. Such
            // an address is sent on to the portal's own, the method and body kept.
            if (!context.Request.Path.StartsWithSegments(BasePath, StringComparison.Ordinal)
                && context.Request.Path.StartsWithSegments(BasePath, StringComparison.OrdinalIgnoreCase, out var rest))
            {
                context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
                context.Response.Headers.Location = context.Request.PathBase + BasePath + rest + context.Request.QueryString;
                return Task.CompletedTask;
            }
        }
        return next(context);
    }

    public static void MapHeraldPortal(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapRazorPages();
        PortalAssets.Map(app);
    }
}
