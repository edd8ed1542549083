using Herald.Delivery.Workers;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Mvc;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Notifications;

/// <summary>One notification: its payload, the headers it is sent with, every attempt, and Resend.</summary>
public sealed class DetailModel(IHeraldStore store, ResendQueue resends, TimeProvider time) : PortalPageModel
{
    public Notification Notification { get; private set; } = null!;
    public Endpoint? Endpoint { get; private set; }
    public IReadOnlyList<Attempt> Attempts { get; private set; } = [];

    /// <summary>
    /// What a pending notification of a paused or disabled endpoint waits for (<c>resumed</c>,
    /// <c>enabled</c>): nothing is sent to it until then; null when it waits for nothing.
    /// </summary>
    public string? WaitsFor => Notification.Status == NotificationStatuses.Pending && Endpoint is { Enabled: false } e
        ? (Endpoints.IndexModel.State(e) == "paused" ? "resumed" : "enabled")
        : null;

    /// <summary>
    /// For a pending notification of an ordered endpoint, the earliest notification of its entity
    /// still pending there: nothing is sent of this one until that one succeeds or dies, whatever
    /// its next attempt's time says; null when it waits for none.
    /// </summary>
    public Notification? WaitsBehind { get; private set; }

    /// <summary>The query of the log's page this one was opened from, to lead back to it.</summary>
    [BindProperty(SupportsGet = true, Name = "list")] public string? List { get; set; }

    /// <summary>The log's page this notification was opened from, filters and all.</summary>
    public string BackLink => IndexModel.LinkFrom(List);

    public async Task<IActionResult> OnGetAsync(string id) =>
        await LoadAsync(id) ? Page() : NotFoundPage();

    /// <summary>A manual attempt now, the same one the API's resend makes; a script gets the attempts list back.</summary>
    public Task<IActionResult> OnPostResendAsync(string id) => TryAsync(async () =>
    {
        if (await resends.ResendNowAsync(Merchant, id, HttpContext.RequestAborted) is null)
        {
            return NotFoundPage();
        }
        if (Request.Headers["X-Requested-With"] == "fetch")
        {
            Attempts = await store.ListAttemptsAsync(id, HttpContext.RequestAborted);
            await ShowStateAsync(id);
            return Partial("_Attempts", Attempts);
        }
        return RedirectToPage(new { id, list = Blank(List) });
    });

    /// <summary>A refused resend (its endpoint deleted) shows the notification again with the reason.</summary>
    protected override async Task<IActionResult> OnInvalidAsync()
    {
        if (Request.Headers["X-Requested-With"] == "fetch")
        {
            // Refused because the notification changed (its endpoint deleted, and it died): the
            // script shows where it stands now beside the reason.
            await ShowStateAsync((string)RouteData.Values["id"]!);
            return Content(Error ?? "refused", "text/plain");
        }
        var id = (string)RouteData.Values["id"]!;
        return await LoadAsync(id) ? Page() : NotFoundPage();
    }

    /// <summary>The notification's status and next attempt as they are now, in headers for the page's script.</summary>
    private async Task ShowStateAsync(string id)
    {
        if (await store.GetNotificationAsync(Merchant, id, HttpContext.RequestAborted) is { } notification)
        {
            Response.Headers["X-Herald-Status"] = notification.Status;
            // ASCII, as a header must be: "none" where the page shows a dash.
            Response.Headers["X-Herald-Next-Attempt"] = notification.NextAttemptAt is null ? "none" : PortalFormat.Time(notification.NextAttemptAt);
        }
    }

    /// <summary>
    /// When the next attempt is, as the page says it: a notification held behind an earlier one of
    /// its entity was due already, and goes once that one is done, not at a time gone by.
    /// </summary>
    public string NextAttempt => WaitsBehind is not null && Notification.NextAttemptAt <= time.GetUtcNow()
        ? "once the earlier one is done"
        : PortalFormat.Time(Notification.NextAttemptAt);

    private async Task<bool> LoadAsync(string id)
    {
        if (await store.GetNotificationAsync(Merchant, id, HttpContext.RequestAborted) is not { } notification)
        {
            return false;
        }
        Notification = notification;
        Endpoint = await store.GetEndpointAsync(Merchant, notification.EndpointId, HttpContext.RequestAborted);
        Attempts = await store.ListAttemptsAsync(id, HttpContext.RequestAborted);
        if (notification.Status == NotificationStatuses.Pending && Endpoint is { Ordered: true, Enabled: true })
        {
            var pending = await store.ListNotificationsAsync(Merchant, new NotificationQuery
            {
                EndpointId = notification.EndpointId,
                EntityKind = Herald.Entities.EntityKinds.ApiName(notification.EntityKind),
                EntityId = notification.EntityId,
                Status = NotificationStatuses.Pending,
                Limit = 100,
            }, HttpContext.RequestAborted);
            WaitsBehind = pending.Data.Where(p => p.EntityVersion < notification.EntityVersion).MinBy(p => p.EntityVersion);
        }
        return true;
    }
}
