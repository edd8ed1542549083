using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Portal.Pages;

internal sealed class SignInModel(ILogger<SignInModel> logger, Auth.KeyFailures failures) : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>Set when a sign-out could not be noted on the server (<c>?signout=browser-only</c>).</summary>
    public bool SignedOutInBrowserOnly { get; private set; }

    /// <summary>Set when the session ended because its own key was revoked on the API keys page (<c>?signout=revoked</c>).</summary>
    public bool KeyRevoked { get; private set; }

    /// <summary>Set after a Sign out that ended the session (<c>?signout=done</c>): said, so that the click is seen to have worked.</summary>
    public bool SignedOut { get; private set; }

    /// <summary>Set when a form was posted after its session had ended, and so did nothing (<c>?form=unsent</c>).</summary>
    public bool FormUnsent { get; private set; }

    public void OnGet(string? signout, string? form)
    {
        SignedOutInBrowserOnly = signout == "browser-only";
        KeyRevoked = signout == "revoked";
        SignedOut = signout == "done";
        FormUnsent = form == "unsent";
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? key)
    {
        // The API's budget of unknown keys a client address holds covers the portal's sign-in too.
        var address = Auth.KeyFailures.BudgetOf(HttpContext.Connection.RemoteIpAddress);
        if (failures.Exhausted(address))
        {
            Error = "Too many unrecognised keys from this address. Wait a moment and try again.";
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = "1";
            return Page();
        }
        var backTo = BackInto(ReturnUrl);
        var (merchant, readOnly) = string.IsNullOrWhiteSpace(key) ? (null, false) : await PortalAuth.SignInAsync(HttpContext, key, backTo);
        if (readOnly)
        {
            // A real key, so no guess to count against the address.
            Error = "That API key is read-only: it reads the API, and the portal, which acts too, needs a full merchant key.";
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Page();
        }
        if (merchant is null)
        {
            failures.Note(address);
            PortalLog.SignInRefused(logger, HttpContext.Connection.RemoteIpAddress?.ToString());
            Error = "That API key was not recognised. Check it and try again: it must be a current merchant key (the admin key cannot sign in here).";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        PortalLog.SignedIn(logger, merchant);
        return LocalRedirect(backTo);
    }

    /// <summary>
    /// Where to go after signing in: the page asked for when it is a portal page, the portal's
    /// start otherwise. Never an open redirect, never out of the portal by <c>..</c> or a backslash,
    /// never a header broken by a line break or a character a header cannot hold (the address as the
    /// browser sends it is escaped ASCII; only a hand-made one is not).
    /// </summary>
    internal static string BackInto(string? url)
    {
        const string portal = PortalServiceCollectionExtensions.BasePath;
        if (string.IsNullOrEmpty(url)
            || !(url == portal || url.StartsWith(portal + "/", StringComparison.Ordinal) || url.StartsWith(portal + "?", StringComparison.Ordinal))
            || url.Any(c => c is < ' ' or > '~' || c == '\\')
            || url.Contains("..", StringComparison.Ordinal)
            || url.Contains("%2e", StringComparison.OrdinalIgnoreCase) || url.Contains("%5c", StringComparison.OrdinalIgnoreCase) || url.Contains("%2f", StringComparison.OrdinalIgnoreCase))
        {
            return portal;
        }
        return url;
    }
}
