using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Herald.Server.Portal.Pages;

public sealed class SignOutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var ended = await PortalAuth.SignOutAsync(HttpContext);
        // A secret kept for a page not yet shown goes with the session.
        Response.Cookies.Delete(PortalServiceCollectionExtensions.OnceCookie, new Microsoft.AspNetCore.Http.CookieOptions { Path = PortalServiceCollectionExtensions.BasePath });
        return Redirect(ended ? "/portal/signin?signout=done" : "/portal/signin?signout=browser-only");
    }
}
