using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Server.Portal.Pages;

/// <summary>The last 24 hours: attempts per hour by outcome, and each endpoint's success rate and latency.</summary>
public sealed class IndexModel(IHeraldStore store, Api.StatsReads stats, TimeProvider time) : PortalPageModel
{
    public DeliveryStats Stats { get; private set; } = null!;

    /// <summary>
    /// The most endpoints the overview charts: a merchant's checkout preferences make one a webhook
    /// URL (and an earlier release one each), so thousands may have attempts in a day, and a bar and
    /// a row each made the page megabytes.
    /// </summary>
    public const int EndpointsShown = 20;

    /// <summary>The endpoints charted: those with the most attempts, at most <see cref="EndpointsShown"/>.</summary>
    public IReadOnlyList<(string Label, EndpointStats Stats)> Endpoints { get; private set; } = [];

    /// <summary>The endpoints charted that were deleted since their attempts: shown by id, with no page to open.</summary>
    public IReadOnlySet<string> Deleted { get; private set; } = new HashSet<string>();

    /// <summary>How many endpoints had attempts in the window, those charted included.</summary>
    public int EndpointsWithAttempts { get; private set; }

    public async Task OnGetAsync()
    {
        var now = time.GetUtcNow();
        // Whole hours: the current one and the 23 before it.
        var until = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        Stats = await stats.ReadAsync(Merchant, until.AddHours(-24), until, HttpContext.RequestAborted);
        EndpointsWithAttempts = Stats.Endpoints.Count;
        var busiest = Stats.Endpoints.OrderByDescending(e => e.Attempts).ThenBy(e => e.EndpointId, StringComparer.Ordinal).Take(EndpointsShown).ToList();
        var urls = (await store.GetEndpointsBareAsync(Merchant, busiest.Select(e => e.EndpointId).ToList(), HttpContext.RequestAborted))
            .ToDictionary(e => e.Id, e => e.Url);
        Endpoints = busiest.Select(e => (urls.GetValueOrDefault(e.EndpointId, e.EndpointId + PortalCharts.Deleted), e)).ToList();
        Deleted = busiest.Select(e => e.EndpointId).Where(id => !urls.ContainsKey(id)).ToHashSet(StringComparer.Ordinal);
    }
}
