using Herald.Storage.Abstractions;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Endpoints;

public sealed class IndexModel(IHeraldStore store) : PortalPageModel
{
    public IReadOnlyList<Endpoint> Endpoints { get; private set; } = [];

    /// <summary>What the last action said, shown once (an endpoint deleted).</summary>
    public string? Notice { get; private set; }

    public async Task OnGetAsync()
    {
        Notice = TempData[NoticeKey] as string;
        Endpoints = await store.ListEndpointsAsync(Merchant, HttpContext.RequestAborted);
    }

    public static string State(Endpoint e) => e.Enabled ? "enabled" : e.DisabledReason?.StartsWith("paused", StringComparison.Ordinal) == true ? "paused" : "disabled";
}
