using System.Globalization;
using System.Text.Json;
using Herald.Delivery;
using Herald.Delivery.Sending;
using Herald.Delivery.Workers;
using Herald.Server.Api;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Endpoints;

/// <summary>One endpoint: its settings, and pause, resume, disable, test, rotate secret, recover and delete.</summary>
public sealed class DetailModel(IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery, EndpointTester tester, ResendQueue resends)
    : PortalPageModel
{
    /// <summary>Where a test's reply waits for the page after it.</summary>
    private const string TestResultKey = "herald.test_result";

    /// <summary>How much of a test's reply the page after it shows (the API's test answers it whole).</summary>
    public const int TestReplyShown = 300;

    public Endpoint Endpoint { get; private set; } = null!;

    [BindProperty]
    public EndpointForm Form { get; set; } = new();

    /// <summary>A secret just made, shown on this one page view only.</summary>
    public string? NewSecret { get; private set; }

    public string? Notice { get; private set; }

    public AttemptResult? TestResult { get; private set; }

    /// <summary>The event type whose example the test sent; null for Herald's own test notification.</summary>
    public string? TestEventType { get; private set; }

    /// <summary>A test's reply and what it sent, kept for the page the test leads back to.</summary>
    private sealed record TestShown(AttemptResult Result, string? EventType);

    public string State => IndexModel.State(Endpoint);

    /// <summary>What becomes of an endpoint that keeps failing, by the node's settings: one attempt at a time, then auto-disable (when it has one).</summary>
    public string FailingOutcome => $"; after {delivery.Value.CircuitBreakerThreshold} in a row it gets one attempt at a time" + (delivery.Value.AutoDisableAfter is { } after && after > TimeSpan.Zero
        ? $"; after {DeliveryOptions.SpanWords(after)} of nothing but failures it is disabled"
        : "");

    public async Task<IActionResult> OnGetAsync(string id)
    {
        if (!await LoadAsync(id))
        {
            return NotFoundPage();
        }
        NewSecret = TakeSecretOnce(id);
        Notice = TempData[NoticeKey] as string;
        if (TakeOnce(TestResultKey, id) is { } kept && JsonSerializer.Deserialize<TestShown>(kept) is { } shown)
        {
            (TestResult, TestEventType) = (shown.Result, shown.EventType);
        }
        return Page();
    }

    public Task<IActionResult> OnPostSaveAsync(string id) => TryAsync(async () =>
    {
        var current = await EndpointsApi.LoadAsync(store, Merchant, id, HttpContext.RequestAborted);
        if (!string.IsNullOrEmpty(Form.Loaded) && Form.Loaded != EndpointForm.From(current).Loaded)
        {
            // The form sends every field as its page showed them: saved, it would undo unseen what
            // another tab or the API changed since (a rate limit set, say, removed as an empty field).
            Error = "These settings were changed elsewhere (in another tab, or through the API) after this page was opened, so nothing was saved. "
                + "They are shown below as they are now: make your change again.";
            Response.StatusCode = StatusCodes.Status409Conflict;
            // Drawn from the endpoint, not from what was posted (the number fields show what was typed otherwise).
            ModelState.Clear();
            await LoadAsync(id);
            return Page();
        }
        await EndpointOperations.UpdateAsync(store, Merchant, id, Form.ToUpdate(current), time, delivery.Value, HttpContext.RequestAborted);
        return Done(id, "Settings saved.");
    });

    public Task<IActionResult> OnPostPauseAsync(string id) => TryAsync(async () =>
    {
        await EndpointOperations.SetPausedAsync(store, Merchant, id, paused: true, time, HttpContext.RequestAborted);
        return Done(id, "Paused: notifications are kept and wait until you resume.");
    });

    public Task<IActionResult> OnPostResumeAsync(string id) => TryAsync(async () =>
    {
        var wasPaused = IndexModel.State(await EndpointsApi.LoadAsync(store, Merchant, id, HttpContext.RequestAborted)) == "paused";
        await EndpointOperations.SetPausedAsync(store, Merchant, id, paused: false, time, HttpContext.RequestAborted);
        return Done(id, wasPaused ? "Resumed: waiting notifications are being delivered." : "Enabled: waiting notifications are being delivered.");
    });

    public Task<IActionResult> OnPostDisableAsync(string id) => TryAsync(async () =>
    {
        await EndpointOperations.UpdateAsync(store, Merchant, id, new UpdateEndpointRequest(Enabled: false), time, delivery.Value, HttpContext.RequestAborted);
        return Done(id, "Disabled.");
    });

    public Task<IActionResult> OnPostRotateAsync(string id, int? graceSeconds) => TryAsync(async () =>
    {
        var rotated = await EndpointOperations.RotateSecretAsync(store, Merchant, id, graceSeconds, time, HttpContext.RequestAborted,
            // Said as the page says it: its own choice of grace, and a time as the portal writes times.
            tooMany: (signing, fitsAt) => $"This endpoint has {signing} secrets signing, and at most {EndpointsApi.MaxSigningSecrets} sign at once "
                + "(each adds a signature to every request), so nothing changed. Rotate with Previous secrets keep signing set to “not at all”, "
                + $"which ends every older secret at once, or wait until {PortalFormat.Time(fitsAt)}, when enough of them have stopped signing.");
        KeepSecretOnce(id, rotated.Secret);
        if (graceSeconds == 0)
        {
            return Done(id, "New secret made; the previous ones no longer sign.");
        }
        var until = DateTimeOffset.Parse(rotated.PreviousSecretsExpireAt, System.Globalization.CultureInfo.InvariantCulture);
        return Done(id, $"New secret made; the previous ones keep signing until {PortalFormat.Time(until)}.");
    });

    /// <summary>
    /// Sends a test and shows its reply on the page it redirects to, as after any action: a reload
    /// of the page, or going back to it, sends nothing again.
    /// </summary>
    public Task<IActionResult> OnPostTestAsync(string id, string? eventType) => TryAsync(async () =>
    {
        var endpoint = await EndpointsApi.LoadAsync(store, Merchant, id, HttpContext.RequestAborted);
        var type = EndpointsApi.TestEventType(endpoint, eventType);
        var result = await tester.SendAsync(endpoint, type, HttpContext.RequestAborted);
        // The reply travels in a cookie: its start alone, as a receiver's error page escaped into it
        // could pass what proxies and the server take in a header (8 KB, 32 KB), every portal page then refused.
        KeepOnce(TestResultKey, id, JsonSerializer.Serialize(new TestShown(result.ResponseExcerpt is { Length: > TestReplyShown } reply
            ? result with { ResponseExcerpt = reply[..TestReplyShown] + "…" }
            : result, type)));
        return RedirectToPage(new { id });
    });

    public Task<IActionResult> OnPostRecoverAsync(string id, string? since) => TryAsync(async () =>
    {
        await EndpointsApi.LoadAsync(store, Merchant, id, HttpContext.RequestAborted);
        // Read as the API's recover reads it; the refusal names the field, which is then marked.
        var from = (string.IsNullOrEmpty(since) ? null : Validation.TryTime(since))
            ?? throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest, string.IsNullOrEmpty(since)
                ? "since: choose the time from which failed notifications are sent again"
                : "since is not a time: choose the time from which failed notifications are sent again");
        var (queued, complete) = await resends.RecoverAsync(Merchant, id, from, HttpContext.RequestAborted);
        var sent = PortalFormat.Count(queued, "failed notification", "failed notifications");
        return Done(id, complete
            ? $"{sent} queued to be sent again."
            : $"{sent} queued to be sent again; the queue is full, so recover again once they have gone out for the rest.");
    });

    protected override async Task<IActionResult> OnInvalidAsync()
    {
        var id = (string)RouteData.Values["id"]!;
        // Only a refused save brings the settings typed back; after any other refused action (a
        // pause, a recover) the form shows the endpoint as it is, not an empty one.
        var saving = string.Equals(RouteData.Values["handler"] as string ?? Request.Query["handler"], "Save", StringComparison.OrdinalIgnoreCase);
        return await LoadAsync(id, keepForm: saving) ? Page() : NotFoundPage();
    }

    public Task<IActionResult> OnPostDeleteAsync(string id) => TryAsync(async () =>
    {
        if (!await store.DeleteEndpointAsync(Merchant, id, time.GetUtcNow(), HttpContext.RequestAborted))
        {
            return NotFoundPage();
        }
        TempData[NoticeKey] = $"Endpoint {id} deleted: nothing more is sent to it, and its pending notifications died (one with an attempt under way is left to that attempt).";
        return RedirectToPage("/Endpoints/Index");
    });

    private RedirectToPageResult Done(string id, string notice)
    {
        TempData[NoticeKey] = notice;
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(string id, bool keepForm = false)
    {
        if (await store.GetEndpointAsync(Merchant, id, HttpContext.RequestAborted) is not { } endpoint)
        {
            return false;
        }
        Endpoint = endpoint;
        if (!keepForm)
        {
            Form = EndpointForm.From(endpoint);
        }
        else
        {
            // The settings form does not post the format (it is fixed): the one shown again, and its
            // event types with what was ticked, is the endpoint's, not the form's default.
            Form.Format = Herald.Endpoints.PayloadFormats.ApiName(endpoint.Format);
        }
        return true;
    }
}
