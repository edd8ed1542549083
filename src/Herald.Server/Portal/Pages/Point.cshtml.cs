using Herald.Delivery;
using Herald.Endpoints;
using Herald.Errors;
using Herald.Server.Api;
using Herald.Server.Portal.Pages.Endpoints;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages;

/// <summary>
/// Point integrations: Point payment intents carry no notification URL (the seed refuses one), so
/// an integration's URL is an endpoint of format <c>point</c>; this page lists and adds those.
/// </summary>
public sealed class PointModel(IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) : PortalPageModel
{
    public IReadOnlyList<Endpoint> Integrations { get; private set; } = [];

    [BindProperty] public string? NotificationUrl { get; set; }
    [BindProperty] public List<string> EventTypes { get; set; } = [];

    public async Task OnGetAsync() => await LoadAsync();

    public Task<IActionResult> OnPostAsync() => TryAsync(async () =>
    {
        var form = new EndpointForm { Url = NotificationUrl ?? "", Format = "point", EventTypes = EventTypes };
        // The same URL twice would be two endpoints, and its receiver would get every notification
        // twice. Compared as it would be kept (HTTP://Shop.example/p is http://shop.example/p).
        var url = Validation.EndpointUrl(form.Url.Trim(), delivery.Value);
        if ((await PointEndpointsAsync()).FirstOrDefault(e => string.Equals(e.Url, url, StringComparison.Ordinal)) is { } existing)
        {
            throw new HeraldException(ErrorKind.Conflict,
                $"url {url} is a Point integration URL already ({existing.Id}): another would send it every notification twice; change that one's event types on its page instead");
        }
        var endpoint = await EndpointOperations.CreateAsync(store, Merchant, form.ToCreate(), time, delivery.Value, HttpContext.RequestAborted);
        KeepSecretOnce(endpoint.Id, endpoint.Secrets[0]);
        return RedirectToPage("/Endpoints/Detail", new { id = endpoint.Id });
    });

    protected override async Task<IActionResult> OnInvalidAsync()
    {
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync() => Integrations = await PointEndpointsAsync();

    // As the endpoints page reads them, with their health (failing since when), which the lists
    // kept for routing changes do not carry.
    private async Task<IReadOnlyList<Endpoint>> PointEndpointsAsync() =>
        [.. (await store.ListOwnEndpointsBareAsync(Merchant, HttpContext.RequestAborted)).Where(e => e.Format == PayloadFormat.Point)];
}
