using Herald.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Herald.Server.Portal;

/// <summary>A signed-in portal page: the merchant it serves, and a 404 that stays inside the portal.</summary>
public abstract class PortalPageModel : PageModel
{
    /// <summary>The signed-in merchant; every read and write is scoped to it.</summary>
    protected string Merchant => PortalAuth.MerchantOf(User);

    /// <summary>Set when the page answers 404; the page then shows the not-found notice only.</summary>
    public bool Missing { get; private set; }

    /// <summary>A message to show after an action that failed validation.</summary>
    public string? Error { get; protected set; }

    protected IActionResult NotFoundPage()
    {
        Missing = true;
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }

    /// <summary>Runs an action shared with the API; a refusal becomes the page's error message, a 404 the not-found page.</summary>
    protected async Task<IActionResult> TryAsync(Func<Task<IActionResult>> action)
    {
        try
        {
            return await action();
        }
        catch (HeraldException e) when (e.Kind == ErrorKind.NotFound)
        {
            return NotFoundPage();
        }
        catch (HeraldException e)
        {
            Error = string.Join("; ", e.Messages);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await OnInvalidAsync();
        }
    }

    /// <summary>What to show again after a refused action: the page as it was.</summary>
    protected virtual Task<IActionResult> OnInvalidAsync() => Task.FromResult<IActionResult>(Page());

    /// <summary>A query string of the pairs that have a value (empty when none has).</summary>
    protected static string QueryString(IEnumerable<(string Key, string? Value)> pairs)
    {
        var given = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }

    protected static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
