using Herald.Server.Api;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Herald.Server.Portal.Pages;

/// <summary>The merchant's API keys: when each was made and revoked, a new one (shown once), a revoke.</summary>
public sealed class KeysModel(IHeraldStore store, TimeProvider time) : PortalPageModel
{
    /// <summary>What a new key is kept under for the page after its creation to show once.</summary>
    private const string NewKeyOwner = "api_key";

    /// <summary>Keys a page: revoked keys stay listed, so a merchant that turns keys over has many.</summary>
    public const int PageSize = 50;

    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];

    public PortalPager Pager { get; private set; } = null!;

    [BindProperty(SupportsGet = true, Name = "after")] public string? After { get; set; }
    [BindProperty(SupportsGet = true, Name = "before")] public string? Before { get; set; }

    /// <summary>The key this session signed in with: revoking it ends the session.</summary>
    public string? SessionKeyHash { get; private set; }

    public string? Created { get; private set; }

    /// <summary>The key just made, shown this once.</summary>
    public string? NewKey { get; private set; }

    public string? Revoked { get; private set; }

    public async Task OnGetAsync(string? created, string? revoked)
    {
        Created = created;
        Revoked = revoked;
        NewKey = created is null ? null : TakeSecretOnce(NewKeyOwner);
        await LoadAsync();
    }

    public Task<IActionResult> OnPostCreateAsync(string? scope) => TryAsync(async () =>
    {
        var (record, key) = await ApiKeysApi.MakeAsync(store, Merchant, time, HttpContext.RequestAborted, ApiKeysApi.Scope(scope));
        KeepSecretOnce(NewKeyOwner, key);
        return RedirectToPage(new { created = record.Id });
    });

    public Task<IActionResult> OnPostRevokeAsync(string id) => TryAsync(async () =>
    {
        var own = (await store.GetApiKeyAsync(Merchant, id, HttpContext.RequestAborted))?.KeyHash == PortalAuth.KeyHashOf(User);
        if (!await store.RevokeApiKeyAsync(Merchant, id, time.GetUtcNow(), HttpContext.RequestAborted))
        {
            throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest, $"API key {id} is not one of your active keys");
        }
        if (own)
        {
            // This session's own key: the session ended with it, and the sign-in says why it is shown.
            await HttpContext.SignOutAsync(PortalAuth.Scheme);
            return Redirect("/portal/signin?signout=revoked");
        }
        return RedirectToPage(new { revoked = id, after = Blank(After), before = Blank(Before) });
    });

    protected override async Task<IActionResult> OnInvalidAsync()
    {
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        SessionKeyHash = PortalAuth.KeyHashOf(User);
        (Keys, Pager) = await PortalPager.ReadAsync(After, Before, Herald.Ids.HeraldId.ApiKey,
            (startingAfter, endingBefore) => store.ListApiKeysPageAsync(Merchant, PageSize, startingAfter, endingBefore, HttpContext.RequestAborted),
            k => k.Id, (a, b) => "/portal/keys" + QueryString([("after", a), ("before", b)]));
    }
}
