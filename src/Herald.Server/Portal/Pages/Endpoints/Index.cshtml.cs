using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Mvc;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Endpoints;

public sealed class IndexModel(IHeraldStore store) : PortalPageModel
{
    /// <summary>Endpoints a page: a merchant's checkout preferences make one a webhook URL (an earlier release one each), so there may be many.</summary>
    public const int PageSize = 50;

    /// <summary>The merchant's own endpoints, newest first: at most 100, all on the list's first page.</summary>
    public IReadOnlyList<Endpoint> Own { get; private set; } = [];

    /// <summary>A page of the endpoints its checkout preferences made, of which there may be many.</summary>
    public IReadOnlyList<Endpoint> Endpoints { get; private set; } = [];

    public PortalPager Pager { get; private set; } = null!;

    [BindProperty(SupportsGet = true, Name = "after")] public string? After { get; set; }
    [BindProperty(SupportsGet = true, Name = "before")] public string? Before { get; set; }

    /// <summary>What the last action said, shown once (an endpoint deleted).</summary>
    public string? Notice { get; private set; }

    public async Task OnGetAsync()
    {
        Notice = TempData[NoticeKey] as string;
        (Endpoints, Pager) = await PortalPager.ReadAsync(After, Before, Herald.Ids.HeraldId.Endpoint,
            (startingAfter, endingBefore) => store.ListEndpointsPageAsync(Merchant, PageSize, startingAfter, endingBefore, preferencesOnly: true, HttpContext.RequestAborted),
            e => e.Id, (a, b) => "/portal/endpoints" + QueryString([("after", a), ("before", b)]));
        // On the first page, the merchant's own, whole: however many its preferences made, they are found at once.
        if (Pager.Newer is null)
        {
            Own = [.. (await store.ListOwnEndpointsBareAsync(Merchant, HttpContext.RequestAborted)).Reverse()];
        }
    }

    /// <summary>Why an endpoint is held, after its state's badge: without the badge's word again ("paused by the merchant" beside "paused" reads "by the merchant").</summary>
    public static string? Reason(Endpoint e, string state) =>
        e.DisabledReason is { } reason && reason.StartsWith(state + " ", StringComparison.Ordinal) ? reason[(state.Length + 1)..] : e.DisabledReason;

    /// <summary>Enabled (failing, while every attempt since a time has failed), paused, or disabled.</summary>
    public static string State(Endpoint e) => e.Enabled
        ? e.FailingSince is null ? "enabled" : "failing"
        : e.DisabledReason?.StartsWith("paused", StringComparison.Ordinal) == true ? "paused" : "disabled";
}
