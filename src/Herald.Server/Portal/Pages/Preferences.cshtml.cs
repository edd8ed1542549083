using Herald.Delivery;
using Herald.Server.Api;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Herald.Server.Portal.Pages;

/// <summary>Checkout preferences and their <c>custom_urls.status_changes_webhook</c>.</summary>
public sealed class PreferencesModel(IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) : PortalPageModel
{
    public const int PageSize = 25;

    public IReadOnlyList<CheckoutPreference> Preferences { get; private set; } = [];
    public PortalPager Pager { get; private set; } = null!;

    [BindProperty(SupportsGet = true, Name = "after")] public string? After { get; set; }
    [BindProperty(SupportsGet = true, Name = "before")] public string? Before { get; set; }

    [BindProperty] public string? Webhook { get; set; }
    [BindProperty] public string? ExternalReference { get; set; }

    public string? Created { get; private set; }

    /// <summary>The new preference's webhook signing secret, shown this once.</summary>
    public string? NewSecret { get; private set; }

    public async Task OnGetAsync(string? created)
    {
        Created = created;
        NewSecret = created is null ? null : TakeSecretOnce(created);
        await LoadAsync();
    }

    public Task<IActionResult> OnPostAsync() => TryAsync(async () =>
    {
        var request = new CreatePreferenceRequest(
            string.IsNullOrWhiteSpace(Webhook) ? null : new CustomUrls(Webhook.Trim()),
            string.IsNullOrWhiteSpace(ExternalReference) ? null : ExternalReference.Trim());
        var preference = (await PreferencesApi.CreateAsync(store, Merchant, request, time, delivery.Value, null, HttpContext.RequestAborted))!;
        if (preference.Secret is { } secret)
        {
            KeepSecretOnce(preference.Id, secret);
        }
        return RedirectToPage(new { created = preference.Id });
    });

    protected override async Task<IActionResult> OnInvalidAsync()
    {
        await LoadAsync();
        return Page();
    }

    public static string? WebhookOf(CheckoutPreference p) => p.Document["custom_urls"]?["status_changes_webhook"]?.GetValue<string>();

    private async Task LoadAsync()
    {
        (Preferences, Pager) = await PortalPager.ReadAsync(After, Before, Herald.Ids.HeraldId.CheckoutPreference,
            (startingAfter, endingBefore) => PreferencesApi.ListAsync(store, Merchant, PageSize, startingAfter, endingBefore, HttpContext.RequestAborted),
            p => p.Id, (a, b) => "/portal/preferences" + QueryString([("after", a), ("before", b)]));
    }
}
