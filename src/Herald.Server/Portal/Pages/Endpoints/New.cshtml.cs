using Herald.Delivery;
using Herald.Server.Api;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Herald.Server.Portal.Pages.Endpoints;

public sealed class NewModel(IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) : PortalPageModel
{
    [BindProperty]
    public EndpointForm Form { get; set; } = new();

    public void OnGet()
    {
    }

    public Task<IActionResult> OnPostAsync() => TryAsync(async () =>
    {
        var endpoint = await EndpointOperations.CreateAsync(store, Merchant, Form.ToCreate(), time, delivery.Value, HttpContext.RequestAborted);
        KeepSecretOnce(endpoint.Id, endpoint.Secrets[0]);
        return RedirectToPage("Detail", new { id = endpoint.Id });
    });
}
