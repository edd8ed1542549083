using System.Globalization;
using Herald.Entities;
using Herald.Events;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Mvc;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Notifications;

/// <summary>The notification log: filters, counts per status, newest first, a page at a time.</summary>
public sealed class IndexModel(IHeraldStore store) : PortalPageModel
{
    public const int PageSize = 25;

    /// <summary>
    /// The most notifications the counts per status count, the newest that match: counting a
    /// merchant's whole log on every page of it would take longer the longer it gets.
    /// </summary>
    public const int CountCap = 10_000;

    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true, Name = "endpoint")] public string? EndpointId { get; set; }
    [BindProperty(SupportsGet = true, Name = "kind")] public string? EntityKind { get; set; }
    [BindProperty(SupportsGet = true, Name = "type")] public string? EventType { get; set; }
    [BindProperty(SupportsGet = true, Name = "entity")] public string? EntityId { get; set; }
    [BindProperty(SupportsGet = true, Name = "event")] public string? EventId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Since { get; set; }
    [BindProperty(SupportsGet = true)] public string? Until { get; set; }
    [BindProperty(SupportsGet = true, Name = "after")] public string? After { get; set; }
    [BindProperty(SupportsGet = true, Name = "before")] public string? Before { get; set; }

    public IReadOnlyList<Notification> Notifications { get; private set; } = [];
    public PortalPager Pager { get; private set; } = null!;
    public IReadOnlyDictionary<string, long> Counts { get; private set; } = new Dictionary<string, long>();

    /// <summary>Whether as many notifications matched as are counted at most: the counts are then of the newest <see cref="CountCap"/>, and more may match.</summary>
    public bool CountsCapped { get; private set; }
    public IReadOnlyList<Endpoint> Endpoints { get; private set; } = [];
    /// <summary>The event types notifications can have: those some format notifies (a Point intent's OPEN is none).</summary>
    public static IEnumerable<string> EventTypeNames => Herald.Endpoints.PayloadFormats.All.SelectMany(f => Herald.Endpoints.PayloadFormats.EventTypes(f)).Order(StringComparer.Ordinal);
    public static IEnumerable<string> EntityKindNames => EntityKinds.All.Select(k => k.ApiName());

    public async Task OnGetAsync()
    {
        // A cursor that is no notification's id (typed by hand, cut short) reads the first page, and says so.
        if (!PortalPager.WellFormed(After, Before, Herald.Ids.HeraldId.Notification))
        {
            Note("The page to start from is not a notification id; the newest are shown.");
            After = Before = null;
        }
        var (startingAfter, endingBefore) = PortalPager.Cursors(After, Before);
        // seed 003's own spelling of a declined transaction, as the API takes it (and shown so in its control).
        if (EventTypes.TryNormalize(EventType, out var normalized))
        {
            EventType = normalized;
        }
        var (since, until) = (Time(Since, "From"), Time(Until, "To"));
        // Shown in the form the page's time controls take, however the address wrote them.
        Since = since is null ? null : PortalFormat.Input(since);
        Until = until is null ? null : PortalFormat.Input(until);
        if (since > until)
        {
            Note("From must not be after To; the time range was left out.");
            (since, until) = (null, null);
        }
        // To takes in its whole second, as the log shows times: a notification shown at 12:00:05 is
        // among those up to 12:00:05 (the store's until is the first moment left out).
        until = until is { } last ? (last < DateTimeOffset.MaxValue.AddSeconds(-1) ? last.AddSeconds(1) : DateTimeOffset.MaxValue) : null;
        var query = new NotificationQuery
        {
            Status = Known(Status, NotificationStatuses.All, "Status"),
            EndpointId = OfKind(Blank(EndpointId), Herald.Ids.HeraldId.Endpoint, "Endpoint"),
            EntityKind = Known(EntityKind, EntityKindNames, "Entity kind"),
            EventType = NotifiedType(EventType),
            EntityId = Blank(EntityId?.Trim()),
            EventId = OfKind(Blank(EventId?.Trim()), Herald.Ids.HeraldId.Event, "Webhook id"),
            Since = since,
            Until = until,
            Limit = PageSize,
            StartingAfter = startingAfter,
            EndingBefore = endingBefore,
        };
        // What was left out is not shown in its control either, so filtering again leaves it out.
        (EndpointId, EventId) = (query.EndpointId, query.EventId);
        var page = await store.ListNotificationsAsync(Merchant, query, HttpContext.RequestAborted);
        Notifications = page.Data;
        Pager = PortalPager.Of(After, Before, page.Data.Select(n => n.Id).ToList(), page.HasMore, (after, before) => Link(after: after, before: before));
        Counts = await store.CountNotificationsByStatusAsync(Merchant, query, CountCap, HttpContext.RequestAborted);
        // As many as were counted at most: there may be more (the counts then add up to the cap, never past it).
        CountsCapped = Counts.Values.Sum() >= CountCap;
        // The merchant's own endpoints (the filter offers them), and those the rows or the filter name
        // besides (a checkout preference's): never every endpoint its preferences made.
        var own = await store.ListOwnEndpointsBareAsync(Merchant, HttpContext.RequestAborted);
        var named = Notifications.Select(n => n.EndpointId).Append(query.EndpointId).OfType<string>().Except(own.Select(e => e.Id)).ToList();
        Endpoints = [.. own, .. await store.GetEndpointsBareAsync(Merchant, named, HttpContext.RequestAborted)];
    }

    /// <summary>The log's address with the current filters and some changed.</summary>
    public string Link(string? status = null, string? after = null, bool keepStatus = true, string? before = null) =>
        "/portal/notifications" + QueryString(new (string, string?)[]
        {
            ("status", keepStatus ? status ?? Status : status),
            ("endpoint", EndpointId), ("kind", EntityKind), ("type", EventType), ("entity", EntityId), ("event", EventId),
            ("since", Since), ("until", Until), ("after", after), ("before", before),
        });

    /// <summary>
    /// One notification's page, which leads back to this page of the log with its filters (the
    /// log's query, carried as <c>list</c>).
    /// </summary>
    public string DetailLink(string id) =>
        $"/portal/notifications/{id}" + QueryString([("list", Link(after: After, before: Before).Split('?', 2) is [_, var query] ? query : null)]);

    /// <summary>
    /// The log's address from a query carried back from one notification's page: only the log's
    /// own parameters are kept, so the link it makes leads to the log and nowhere else.
    /// </summary>
    public static string LinkFrom(string? list)
    {
        var given = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(list);
        return "/portal/notifications" + QueryString(Parameters.Select(p => (p, given.TryGetValue(p, out var v) ? (string?)v.ToString() : null)));
    }

    /// <summary>The log's query parameters, in the order its links write them.</summary>
    private static readonly string[] Parameters = ["status", "endpoint", "kind", "type", "entity", "event", "since", "until", "after", "before"];

    /// <summary>The filter's value when it is one of <paramref name="known"/>; otherwise null, and the page says it was left out.</summary>
    /// <summary>
    /// An event type some format notifies; one that none does (a Point intent's OPEN) could only
    /// show an empty log, so it is left out as an unknown one is, the page saying why.
    /// </summary>
    private string? NotifiedType(string? value)
    {
        if (!string.IsNullOrEmpty(value) && EventTypes.All.Contains(value, StringComparer.Ordinal) && !EventTypeNames.Contains(value, StringComparer.Ordinal))
        {
            Note($"Event type '{value}' is never notified (no format sends it); it was left out.");
            return null;
        }
        return Known(value, EventTypes.All, "Event type");
    }

    private string? Known(string? value, IEnumerable<string> known, string label)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (known.Contains(value, StringComparer.Ordinal))
        {
            return value;
        }
        Note($"{label} '{value}' is not one there is; it was left out.");
        return null;
    }

    /// <summary>Adds a line to what the page says went wrong with its filters.</summary>
    /// <summary>
    /// An id the filter takes when it is of its kind (<c>ep_…</c>, <c>evt_…</c>); another (a key's,
    /// a typo) is left out, and the page says so, as the API refuses it, rather than showing an empty log.
    /// </summary>
    private string? OfKind(string? value, string prefix, string label)
    {
        if (value is null || Herald.Server.Api.Validation.IsOfKind(value, prefix))
        {
            return value;
        }
        Note($"{label} '{value}' is not an id of its kind ({prefix}_…); it was left out.");
        return null;
    }

    private void Note(string message) => Error = Error is null ? message : $"{Error} {message}";

    private DateTimeOffset? Time(string? value, string label)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        // Read as the API reads it; to the second, as the time controls show it and the page's links carry it.
        if (Herald.Server.Api.Validation.TryTime(value) is { } time)
        {
            return new DateTimeOffset(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        }
        Note($"{label} is not a time; it was left out.");
        return null;
    }
}
