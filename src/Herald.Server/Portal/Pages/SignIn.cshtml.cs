using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Portal.Pages;

public sealed class SignInModel(ILogger<SignInModel> logger) : PageModel
{
    public string? Error { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? key)
    {
        var merchant = string.IsNullOrWhiteSpace(key) ? null : await PortalAuth.SignInAsync(HttpContext, key);
        if (merchant is null)
        {
            PortalLog.SignInRefused(logger, HttpContext.Connection.RemoteIpAddress?.ToString());
            Error = "That API key was not recognised. Check it and try again: it must be a current merchant key (the admin key cannot sign in here).";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        PortalLog.SignedIn(logger, merchant);
        // Only back into the portal: never an open redirect.
        return LocalRedirect(ReturnUrl is { } url && url.StartsWith("/portal", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal) ? url : "/portal");
    }
}
