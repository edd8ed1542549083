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
        // A cursor that is no event's id (typed by hand) reads the first page.
        if (!PortalPager.WellFormed(After, Before, Herald.Ids.HeraldId.Event))
        {
            After = Before = null;
        }
        var (startingAfter, endingBefore) = PortalPager.Cursors(After, Before);
        var page = await store.ListEventsAsync(Merchant, Blank(EntityId?.Trim()), PageSize, startingAfter, endingBefore, HttpContext.RequestAborted);
        Events = page.Data;
        Pager = PortalPager.Of(After, Before, page.Data.Select(e => e.Id).ToList(), page.HasMore, (after, before) => Link(after, before));
    }

    /// <summary>The list's address with the current entity filter and a cursor.</summary>
    public string Link(string? after = null, string? before = null) =>
        "/portal/events" + QueryString([("entity", EntityId?.Trim()), ("after", after), ("before", before)]);

    /// <summary>The events of one entity.</summary>
    public static string EventsOf(string entityId) => "/portal/events" + QueryString([("entity", entityId)]);

    /// <summary>The notification log of one entity.</summary>
    public static string NotificationsOf(string entityId) => "/portal/notifications" + QueryString([("entity", entityId)]);
}
