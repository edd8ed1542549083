using Microsoft.AspNetCore.Mvc;

namespace Herald.Server.Portal.Pages;

/// <summary>
/// Any portal address no page has: the portal's own not-found page (404) instead of the API's
/// JSON error. Its route is a catch-all, which routing tries only after every other portal route.
/// </summary>
public sealed class NotFoundModel : PortalPageModel
{
    public IActionResult OnGet() => NotFoundPage();

    public IActionResult OnPost() => NotFoundPage();
}
