using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Server.Portal.Pages;

/// <summary>The last 24 hours: attempts per hour by outcome, and each endpoint's success rate and latency.</summary>
public sealed class IndexModel(IHeraldStore store, Api.StatsReads stats, TimeProvider time) : PortalPageModel
{
    public DeliveryStats Stats { get; private set; } = null!;

    public IReadOnlyList<(string Label, EndpointStats Stats)> Endpoints { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var now = time.GetUtcNow();
        // Whole hours: the current one and the 23 before it.
        var until = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        Stats = await stats.ReadAsync(Merchant, until.AddHours(-24), until, HttpContext.RequestAborted);
        var urls = (await store.GetEndpointsBareAsync(Merchant, Stats.Endpoints.Select(e => e.EndpointId).ToList(), HttpContext.RequestAborted))
            .ToDictionary(e => e.Id, e => e.Url);
        Endpoints = Stats.Endpoints.Select(e => (urls.GetValueOrDefault(e.EndpointId, e.EndpointId), e)).ToList();
    }
}
