using Herald.Events;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Mvc;

namespace Herald.Server.Portal.Pages.Events;

/// <summary>The events: every recorded change, newest first, a page at a time, for the merchant or one entity.</summary>
public sealed class IndexModel(IHeraldStore store) : PortalPageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "entity")] public string? EntityId { get; set; }
    [BindProperty(SupportsGet = true, Name = "after")] public string? After { get; set; }
    [BindProperty(SupportsGet = true, Name = "before")] public string? Before { get; set; }

    public IReadOnlyList<EntityEvent> Events { get; private set; } = [];
    public PortalPager Pager { get; private set; } = null!;

    public async Task OnGetAsync()
    {
        (Events, Pager) = await PortalPager.ReadAsync(After, Before, Herald.Ids.HeraldId.Event,
            (startingAfter, endingBefore) => store.ListEventsAsync(Merchant, Blank(EntityId?.Trim()), PageSize, startingAfter, endingBefore, HttpContext.RequestAborted),
            e => e.Id, (after, before) => Link(after, before));
    }

    /// <summary>The list's address with the current entity filter and a cursor.</summary>
    public string Link(string? after = null, string? before = null) =>
        "/portal/events" + QueryString([("entity", EntityId?.Trim()), ("after", after), ("before", before)]);

    /// <summary>The events of one entity.</summary>
    public static string EventsOf(string entityId) => "/portal/events" + QueryString([("entity", entityId)]);

    /// <summary>The notification log of one entity.</summary>
    public static string NotificationsOf(string entityId) => "/portal/notifications" + QueryString([("entity", entityId)]);
}
