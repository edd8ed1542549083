using Herald.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Herald.Server.Portal;

/// <summary>A signed-in portal page: the merchant it serves, and a 404 that stays inside the portal.</summary>
public abstract class PortalPageModel : PageModel
{
    /// <summary>Where a page leaves the next page a line to show once (an action's outcome).</summary>
    protected const string NoticeKey = "herald.notice";

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

    /// <summary>
    /// A form posted to an action the page does not have (no handler, or a name it does not know):
    /// nothing is done, and the browser is sent to the page itself (as after any action), rather
    /// than the page being drawn without what its reading would have loaded.
    /// </summary>
    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.HandlerMethod is null && !HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method))
        {
            context.Result = new RedirectResult(Request.PathBase + Request.Path);
            return;
        }
        await next();
    }

    /// <summary>Runs an action shared with the API; a refusal becomes the page's error message, a 404 the not-found page.</summary>
    protected async Task<IActionResult> TryAsync(Func<Task<IActionResult>> action)
    {
        // A value the form's field could not take (a number field given letters, or a number too
        // large) is refused, as the API refuses it, rather than read as an empty field.
        var unreadable = ModelState.Where(e => e.Value is { Errors.Count: > 0 }).Select(e => (Field: FieldName(e.Key), e.Value!.AttemptedValue)).ToList();
        if (unreadable.Count > 0)
        {
            Error = string.Join("; ", unreadable.Select(u => Herald.Server.Api.Validation.IsWholeNumber(u.AttemptedValue)
                ? $"{u.Field} is out of range: {HeraldException.Quote(u.AttemptedValue)}"
                : $"{u.Field} must be a whole number, not {HeraldException.Quote(u.AttemptedValue)}"));
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await OnInvalidAsync();
        }
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

    /// <summary>A bound field's name as the API names it: <c>Form.TimeoutSeconds</c> is <c>timeout_seconds</c>.</summary>
    private static string FieldName(string key) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(key[(key.LastIndexOf('.') + 1)..]);

    /// <summary>What to show again after a refused action: the page as it was.</summary>
    protected virtual Task<IActionResult> OnInvalidAsync() => Task.FromResult<IActionResult>(Page());

    /// <summary>A query string of the pairs that have a value (empty when none has).</summary>
    protected static string QueryString(IEnumerable<(string Key, string? Value)> pairs)
    {
        var given = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }

    protected static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private const string SecretOnceKey = "herald.new_secret";

    /// <summary>
    /// Keeps a new signing secret for the next page to show once: it travels in the encrypted
    /// one-read cookie, never in a URL, bound to the merchant and to what it signs for (an endpoint,
    /// a preference), so that no other page, and no other merchant signed in later in the same
    /// browser, shows it.
    /// </summary>
    protected void KeepSecretOnce(string owner, string secret) => KeepOnce(SecretOnceKey, owner, secret);

    /// <summary>The secret kept for <paramref name="owner"/> by the page before, once; null when none was, or it was kept for something else.</summary>
    protected string? TakeSecretOnce(string owner) => TakeOnce(SecretOnceKey, owner);

    /// <summary>
    /// Keeps what an action came to for the page it redirects to, to show once (in the encrypted
    /// one-read cookie), bound to the session (so to its merchant) and to <paramref name="owner"/>,
    /// what it is about: a copy of the cookie shows nothing in another session, the merchant's own included.
    /// </summary>
    protected void KeepOnce(string name, string owner, string value) => TempData[name] = $"{Bound} {owner} {value}";

    /// <summary>What a kept value is bound to: this session of this merchant.</summary>
    private string Bound => $"{Merchant}/{PortalAuth.SessionHash(User)}";

    /// <summary>What was kept under <paramref name="name"/> for <paramref name="owner"/>, once; null when nothing was, or it was kept for another.</summary>
    protected string? TakeOnce(string name, string owner)
    {
        if (TempData[name] is not string kept)
        {
            return null;
        }
        var parts = kept.Split(' ', 3);
        return parts.Length == 3 && parts[0] == Bound && parts[1] == owner ? parts[2] : null;
    }
}
