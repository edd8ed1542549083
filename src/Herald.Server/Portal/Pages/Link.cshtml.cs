using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Portal.Pages;

/// <summary>
/// A one-time sign-in link the operator made: opening it shows a Sign in button and uses nothing
/// up (mail and chat scanners fetch links); the button's POST uses the link up, once, and signs in.
/// A link that signs in no one (unknown, used, expired) counts against the address's budget of
/// unknown keys, as a key at the sign-in does, and answers 410 whichever it is.
/// </summary>
internal sealed class LinkModel(ILogger<LinkModel> logger, Auth.KeyFailures failures, IHeraldStore store, TimeProvider time) : PageModel
{
    /// <summary>The merchant the link signs in to; null when it signs in no one.</summary>
    public string? MerchantName { get; private set; }

    public bool TooMany { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token)
    {
        if (Refused())
        {
            return Page();
        }
        MerchantName = (await store.PortalLinkMerchantAsync(PortalLinks.Hash(token), time.GetUtcNow(), HttpContext.RequestAborted))?.Name;
        return MerchantName is null ? NoLongerValid() : Page();
    }

    public async Task<IActionResult> OnPostAsync(string token)
    {
        if (Refused())
        {
            return Page();
        }
        if (await store.UsePortalLinkAsync(PortalLinks.Hash(token), time.GetUtcNow(), HttpContext.RequestAborted) is not { } merchantId)
        {
            return NoLongerValid();
        }
        var name = (await store.GetMerchantAsync(merchantId, HttpContext.RequestAborted))?.Name ?? merchantId;
        await PortalAuth.SignInByLinkAsync(HttpContext, merchantId, name, PortalServiceCollectionExtensions.BasePath);
        PortalLog.SignedInByLink(logger, merchantId);
        return LocalRedirect(PortalServiceCollectionExtensions.BasePath);
    }

    /// <summary>Whether the address has used up its budget of links and keys that sign in no one (429 then, before any look-up).</summary>
    private bool Refused()
    {
        // The token is in the address: no cache may keep the page, whatever it says. (Said as the
        // antiforgery of its form says it, which otherwise logs a warning as it overrides it.)
        Response.Headers.CacheControl = "no-cache, no-store";
        if (!failures.Exhausted(Auth.KeyFailures.BudgetOf(HttpContext.Connection.RemoteIpAddress)))
        {
            return false;
        }
        TooMany = true;
        Response.StatusCode = StatusCodes.Status429TooManyRequests;
        Response.Headers.RetryAfter = "1";
        return true;
    }

    private PageResult NoLongerValid()
    {
        failures.Note(Auth.KeyFailures.BudgetOf(HttpContext.Connection.RemoteIpAddress));
        PortalLog.LinkRefused(logger, HttpContext.Connection.RemoteIpAddress?.ToString());
        Response.StatusCode = StatusCodes.Status410Gone;
        return Page();
    }
}
