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
    public bool HasMore { get; private set; }

    /// <summary>Whether newer events come before this page (it was reached by paging).</summary>
    public bool HasNewer => Blank(Before) is not null ? HasMore : Blank(After) is not null;

    /// <summary>Whether older events follow this page.</summary>
    public bool HasOlder => Blank(Before) is not null ? Events.Count > 0 : HasMore;

    public async Task OnGetAsync()
    {
        // One way at a time: a page reached backwards pages on from its own ends.
        var before = Blank(Before);
        var page = await store.ListEventsAsync(Merchant, Blank(EntityId?.Trim()), PageSize, before is null ? Blank(After) : null, before, HttpContext.RequestAborted);
        Events = page.Data;
        HasMore = page.HasMore;
    }

    /// <summary>The list's address with the current entity filter and a cursor.</summary>
    public string Link(string? after = null, string? before = null) =>
        "/portal/events" + QueryString([("entity", EntityId?.Trim()), ("after", after), ("before", before)]);

    /// <summary>The events of one entity.</summary>
    public static string EventsOf(string entityId) => "/portal/events" + QueryString([("entity", entityId)]);

    /// <summary>The notification log of one entity.</summary>
    public static string NotificationsOf(string entityId) => "/portal/notifications" + QueryString([("entity", entityId)]);
}
