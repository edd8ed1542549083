using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Entities;
using Herald.Events;
using Herald.Ids;
using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NotificationLog = Herald.Server.Portal.Pages.Notifications.IndexModel;

namespace Herald.Portal.Tests.Portal;

public sealed class NotificationTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 90_000)]
    public async Task Resend_OfAFailedNotificationFoundByEntityId_ShowsTheNewSuccessfulAttemptWithoutReload()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction", new { headers = new Dictionary<string, string> { ["X-Gateway-Key"] = "gw-secret-1" } });
        Receiver.Status = 500;
        var transaction = await api.NewTransactionAsync();
        await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        var other = await api.NewTransactionAsync();
        await api.WaitForAttemptsAsync(other, "TRANSACTION.INIT", 1);

        await SignInAsync(key);
        await OpenAsync("/portal/notifications");
        var rows = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        // Found by the webhook-id its receiver logged, then by its entity.
        await Page.GetByLabel("Webhook id (event)").FillAsync(Receiver.Received.First().Headers["webhook-id"]);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await ExpectAsync(rows.First, transaction);
        await Page.GetByLabel("Webhook id (event)").FillAsync("");
        await Page.GetByLabel("Entity id").FillAsync(transaction);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await ExpectAsync(rows.First, "pending");
        await ScreenshotAsync("notifications");
        await rows.First.GetByRole(AriaRole.Link).ClickAsync();

        await ExpectAsync(Page.Locator("#attempts"), "HTTP 500");
        // A tab of its own among others: what it is and where it stands, in its title.
        Assert.Equal("TRANSACTION.INIT, pending · Notification · Herald", await Page.TitleAsync());
        // Pending after its failure: a next attempt is due.
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(" UTC$"));
        await ExpectAsync(Page.Locator("#payload"), transaction);
        // The entity's kind as the log's filter and the API spell it.
        await ExpectAsync(Page.Locator("dl.facts"), "transaction " + transaction);
        await ExpectAsync(Page.GetByRole(AriaRole.Table, new() { Name = "Headers sent with every attempt" }), "webhook-signature");
        // The endpoint's own header is named, its value left to the endpoint's settings.
        await ExpectAsync(Page.GetByRole(AriaRole.Table, new() { Name = "Headers sent with every attempt" }), "x-gateway-key");
        await Assertions.Expect(Page.GetByText("gw-secret-1")).ToHaveCountAsync(0);
        Receiver.Status = 200;
        // A reload would reset this marker: it proves the attempts were re-rendered in place.
        await Page.EvaluateAsync("() => window.__stillHere = true");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resend now" }).ClickAsync();

        var second = Page.Locator("#attempts tr[data-attempt='2']");
        await ExpectAsync(second, "manual");
        await ExpectAsync(second, "succeeded");
        await ExpectAsync(second, "200");
        await ExpectAsync(Page.Locator("#resend-status"), "Resent: succeeded");
        await Assertions.Expect(Page).ToHaveTitleAsync("TRANSACTION.INIT, succeeded · Notification · Herald");
        await Assertions.Expect(Page.Locator("#notification-status")).ToHaveTextAsync("succeeded");
        // Succeeded: nothing is due any more, as a reload would show.
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync("\u2014");
        Assert.True(await Page.EvaluateAsync<bool>("() => window.__stillHere === true"));
        await ScreenshotAsync("notification");
        Assert.Equal(3, Receiver.Received.Count);
        // Nothing traces here: the resend carries no traceparent, not even the unsampled one of the portal's request.
        var resent = Receiver.Received.Last();
        Assert.False(resent.Headers.ContainsKey("traceparent"), resent.Headers.GetValueOrDefault("traceparent"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Notification_OfAnotherMerchant_Answers404_AndShowsNothingOfIt()
    {
        var (owner, _) = await NewMerchantAsync("Owner");
        await owner.AddEndpointAsync(Receiver.Url, "transaction");
        var transaction = await owner.NewTransactionAsync();
        var theirs = await owner.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        var (_, strangerKey) = await NewMerchantAsync("Stranger");

        await SignInAsync(strangerKey);
        var response = await OpenAsync("/portal/notifications/" + theirs.Str("id"));

        Assert.Equal(404, response.Status);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        Assert.Equal("Not found · Herald", await Page.TitleAsync());
        Assert.DoesNotContain(transaction, await Page.ContentAsync(), StringComparison.Ordinal);
        await OpenAsync("/portal/notifications");
        await ExpectAsync(Page.Locator("main"), "No notifications match.");
    }

    [Fact(Timeout = 90_000)]
    public async Task Log_PagesToOlderAndBackToNewer()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        var transactions = new List<string>();
        for (var i = 0; i < 27; i++)
        {
            transactions.Add(await api.NewTransactionAsync());
        }

        await SignInAsync(key);
        await OpenAsync("/portal/notifications");
        var rows = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        var entities = Page.Locator("table[aria-label^='Notifications'] tbody td[data-label='Entity']");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        var newest = await entities.AllInnerTextsAsync();
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Newer" })).ToHaveCountAsync(0);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var oldest = await entities.AllInnerTextsAsync();
        Assert.Equal(transactions.Order(), newest.Concat(oldest).Order());
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Older" })).ToHaveCountAsync(0);

        await pager.GetByRole(AriaRole.Link, new() { Name = "Newer" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        Assert.Equal(newest, await entities.AllInnerTextsAsync());
        // The newest page again: nothing newer, older ones after it.
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Newer" })).ToHaveCountAsync(0);
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Older" })).ToHaveCountAsync(1);
    }

    [Fact(Timeout = 90_000)]
    public async Task BackFromANotification_LeadsToTheLogsPageItWasOpenedFrom_WithItsFilters()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        for (var i = 0; i < 27; i++)
        {
            await api.NewTransactionAsync();
        }

        await SignInAsync(key);
        await OpenAsync("/portal/notifications?kind=transaction&type=TRANSACTION.INIT");
        var rows = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" }).GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var olderPage = Page.Url;
        await rows.First.GetByRole(AriaRole.Link).ClickAsync();
        var back = Page.Locator("main").GetByRole(AriaRole.Link, new() { Name = "← Notifications" });
        // A resend on the way leaves the way back as it was.
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resend now" }).ClickAsync();
        await ExpectAsync(Page.Locator("#resend-status"), "Resent");

        await back.ClickAsync();
        Assert.Equal(olderPage, Page.Url);
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(Page.GetByLabel("Event type")).ToHaveValueAsync("TRANSACTION.INIT");

        // A way back written by hand leads to the log, with the log's own filters only.
        var id = (await Page.Locator("table[aria-label^='Notifications'] tbody a").First.GetAttributeAsync("href"))!.Split('?')[0];
        await OpenAsync(id + "?list=" + Uri.EscapeDataString("x=1&status=dead&//evil.example"));
        Assert.Equal("/portal/notifications?status=dead", await back.GetAttributeAsync("href"));
    }

    [Fact(Timeout = 120_000)]
    public async Task CountsPerStatus_OfALongLog_CountTheNewestOnly_AndSaySo()
    {
        using var admin = Herald.As(HeraldHost.AdminKey);
        var merchant = (await (await admin.PostAsJsonAsync("/v1/merchants", new { name = "Busy" })).Content.ReadFromJsonAsync<JsonObject>())!;
        var api = Herald.As(merchant.Str("api_key"));
        var (endpoint, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        // Paused: the log is what this test is about, not its deliveries.
        await api.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        var store = Herald.Services.GetRequiredService<IHeraldStore>();
        var changes = Enumerable.Range(0, NotificationLog.CountCap + 1).Select(i =>
        {
            var at = Herald.Clock.GetUtcNow();
            var id = $"po-{i}";
            var doc = new JsonObject { ["id"] = id, ["status"] = "OPENED" };
            var evt = new EntityEvent(HeraldId.New(HeraldId.Event, Herald.Clock), merchant.Str("id"), EntityKind.PaymentOrder, id,
                EventTypes.For(EntityKind.PaymentOrder, "OPENED"), null, "OPENED", 1, at, doc);
            return new EntityChange(new Entity(EntityKind.PaymentOrder, id, merchant.Str("id"), "OPENED", 1, null, doc, at, at), 0, evt,
                [new NewNotification(HeraldId.New(HeraldId.Notification, Herald.Clock), endpoint, $"{{\"id\":\"{evt.Id}\"}}", Parked: true)], null);
        }).ToList();
        foreach (var batch in changes.Chunk(1000))
        {
            await store.CommitChangesAsync(batch);
        }

        await SignInAsync(merchant.Str("api_key"));
        await OpenAsync("/portal/notifications");
        var counts = Page.GetByRole(AriaRole.List, new() { Name = "Notifications by status" });
        await ExpectAsync(counts, $"all {NotificationLog.CountCap}+");
        await ExpectAsync(Page.Locator("#counts-capped"), "the counts per status are of the newest 10,000 only");
        // Per status they add up to what was counted, not one past it.
        Assert.Equal("pending " + NotificationLog.CountCap, (await counts.Locator("[data-status-count='pending']").InnerTextAsync()).Trim());
        // Narrowed to fewer than the cap, the counts are whole again.
        await OpenAsync("/portal/notifications?entity=po-7");
        await ExpectAsync(counts, "all 1");
        await Assertions.Expect(Page.Locator("#counts-capped")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task TimeRange_TakesInTheSecondItsToNames_AsTheLogShowsTimes()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        // Half way through a second: the log shows it by the second it falls in.
        Herald.Clock.Advance(TimeSpan.FromMilliseconds(5_500));
        var first = await api.NewTransactionAsync();
        Herald.Clock.Advance(TimeSpan.FromSeconds(5));
        var later = await api.NewTransactionAsync();

        await SignInAsync(key);
        await OpenAsync("/portal/notifications");
        var rows = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var shown = (await rows.Filter(new() { HasText = first }).Locator("td[data-label='Recorded']").InnerTextAsync()).Trim();
        var second = shown.Replace(" UTC", "", StringComparison.Ordinal).Replace(' ', 'T');

        // From and To both the second shown: the notification shown at it, and no other.
        await OpenAsync($"/portal/notifications?since={second}&until={second}");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await ExpectAsync(rows.First, first);
        await Assertions.Expect(Page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        Assert.DoesNotContain(later, await Page.Locator("main").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task FilterByStatus_ShowsOnlyThatStatus_WithCountsPerStatus()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        var delivered = await api.NewTransactionAsync();
        await api.WaitForAttemptsAsync(delivered, "TRANSACTION.INIT", 1);
        Receiver.Status = 500;
        var failing = await api.NewTransactionAsync();
        await api.WaitForAttemptsAsync(failing, "TRANSACTION.INIT", 1);

        await SignInAsync(key);
        await OpenAsync("/portal/notifications");
        await ExpectAsync(Page.Locator("[data-status-count='succeeded']"), "succeeded 1");
        await ExpectAsync(Page.Locator("[data-status-count='pending']"), "pending 1");
        await Page.GetByLabel("Status", new() { Exact = true }).SelectOptionAsync("succeeded");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        var rows = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await ExpectAsync(rows.First, delivered);
        await ExpectAsync(rows.First, "succeeded");
        Assert.DoesNotContain(failing, await Page.Locator("table").InnerTextAsync(), StringComparison.Ordinal);
        // The status filtered by is the current one among the counts, to the eye and to a screen reader.
        await Assertions.Expect(Page.Locator("ul.counts [aria-current='true']")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.Locator("[data-status-count='succeeded']")).ToHaveAttributeAsync("aria-current", "true");
        await Page.GetByRole(AriaRole.Link, new() { Name = "all 2" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Link, new() { Name = "all 2" })).ToHaveAttributeAsync("aria-current", "true");
        await Assertions.Expect(Page.Locator("ul.counts [aria-current='true']")).ToHaveCountAsync(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task Resend_WithoutTheAntiforgeryToken_IsRefused_AndSendsNothing()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        var transaction = await api.NewTransactionAsync();
        var n = await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        await SignInAsync(key);

        // The session cookie alone, as a forged cross-site request would carry it.
        var response = await Page.Context.APIRequest.PostAsync($"{BaseUrl}/portal/notifications/{n.Str("id")}?handler=Resend",
            new() { Headers = new Dictionary<string, string> { ["X-Requested-With"] = "fetch" } });

        Assert.Equal(400, response.Status);
        await Task.Delay(500);
        Assert.Single(Receiver.Received);
    }

    [Fact(Timeout = 90_000)]
    public async Task ANotificationOfADeletedEndpoint_SaysItWasDeleted_AndOffersNoResend()
    {
        var (api, key) = await NewMerchantAsync();
        var (endpoint, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        var transaction = await api.NewTransactionAsync();
        var notification = (await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1)).Str("id");
        Assert.True((await api.DeleteAsync("/v1/endpoints/" + endpoint)).IsSuccessStatusCode);

        await SignInAsync(key);
        await OpenAsync("/portal/notifications");
        var row = Page.Locator("table[aria-label^='Notifications'] tbody tr");
        await Assertions.Expect(row.Locator("td[data-label='Endpoint']")).ToHaveTextAsync(endpoint + " (deleted)");

        await OpenAsync("/portal/notifications/" + notification);
        await Assertions.Expect(Page.Locator("#notification-endpoint")).ToHaveTextAsync(endpoint + " (deleted)");
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Resend now" })).ToHaveCountAsync(0);
        await ExpectAsync(Page.Locator("main"), "Its endpoint was deleted, so it cannot be sent again.");
    }

    [Fact(Timeout = 90_000)]
    public async Task APendingNotificationOfAPausedOrDisabledEndpoint_SaysWhatItWaitsFor()
    {
        var (api, key) = await NewMerchantAsync();
        var (paused, _) = await api.AddEndpointAsync(Receiver.Url + "/paused", "transaction");
        await api.PostJsonAsync($"/v1/endpoints/{paused}/pause", new { }, 200);
        var (disabled, _) = await api.AddEndpointAsync(Receiver.Url + "/disabled", "transaction");
        using var disabling = await api.PatchAsJsonAsync($"/v1/endpoints/{disabled}", new { enabled = false });
        Assert.True(disabling.IsSuccessStatusCode);
        await api.NewTransactionAsync();
        var ofPaused = (await api.GetJsonAsync($"/v1/notifications?endpoint_id={paused}"))["data"]!.AsArray().Single()!.Str("id");
        var ofDisabled = (await api.GetJsonAsync($"/v1/notifications?endpoint_id={disabled}"))["data"]!.AsArray().Single()!.Str("id");

        await SignInAsync(key);
        await OpenAsync("/portal/notifications/" + ofPaused);
        await Assertions.Expect(Page.Locator("#notification-status")).ToHaveTextAsync("pending");
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync("\u2014");
        await ExpectAsync(Page.Locator("#next-attempt-waits"), "(waits for its endpoint to be resumed)");

        await OpenAsync("/portal/notifications/" + ofDisabled);
        await Assertions.Expect(Page.Locator("#notification-status")).ToHaveTextAsync("pending");
        await ExpectAsync(Page.Locator("#next-attempt-waits"), "(waits for its endpoint to be enabled)");
    }

    [Fact(Timeout = 90_000)]
    public async Task APendingNotificationOfAnOrderedEndpoint_BehindAnEarlierOneOfItsEntity_SaysItWaitsForThatOne()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction", new { ordered = true });
        Receiver.Status = 500;
        var transaction = await api.NewTransactionAsync();
        // The first fails and waits for its retry, an hour on: the next of the entity waits behind it.
        var first = await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        await api.MoveAsync("transactions", transaction, "PROCESSING");
        var second = await api.NotificationOfAsync(transaction, "TRANSACTION.PROCESSING");
        var other = await api.NewTransactionAsync();
        var unblocked = await api.WaitForAttemptsAsync(other, "TRANSACTION.INIT", 1);

        await SignInAsync(key);
        await OpenAsync("/portal/notifications/" + second.Str("id"));
        await Assertions.Expect(Page.Locator("#notification-status")).ToHaveTextAsync("pending");
        await ExpectAsync(Page.Locator("#next-attempt-waits"), "waits for an earlier notification of its entity, TRANSACTION.INIT, to succeed or die");
        // Due already, it goes once that one is done: not at a time gone by.
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync("once the earlier one is done");
        await Page.Locator("#next-attempt-waits").GetByRole(AriaRole.Link).ClickAsync();
        await ExpectAsync(Page.Locator("dl.facts"), first.Str("id"));

        // The first of its entity waits for nothing but its retry, nor does another entity's.
        await Assertions.Expect(Page.Locator("#next-attempt-waits")).ToHaveCountAsync(0);
        await OpenAsync("/portal/notifications/" + unblocked.Str("id"));
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(" UTC$"));
        await Assertions.Expect(Page.Locator("#next-attempt-waits")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task ResendNow_ByKeyboard_KeepsTheFocus_AndARefusalShowsWhereTheNotificationStandsNow()
    {
        var (api, key) = await NewMerchantAsync();
        var (endpoint, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        Receiver.Status = 500;
        var transaction = await api.NewTransactionAsync();
        var notification = await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        await SignInAsync(key);
        await OpenAsync("/portal/notifications/" + notification.Str("id"));

        var resend = Page.GetByRole(AriaRole.Button, new() { Name = "Resend now" });
        await resend.FocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await ExpectAsync(Page.Locator("#resend-status"), "Resent: failed (500)");
        // Still on the button, for another Enter: not thrown back to the page's start.
        await Assertions.Expect(resend).ToBeFocusedAsync();

        // Its endpoint deleted meanwhile: the refusal says why, and the page shows the notification dead.
        Assert.True((await api.DeleteAsync("/v1/endpoints/" + endpoint)).IsSuccessStatusCode);
        await Page.Keyboard.PressAsync("Enter");
        await ExpectAsync(Page.Locator("#resend-status"), "The resend could not be made");
        await Assertions.Expect(Page.Locator("#notification-status")).ToHaveTextAsync("dead");
        await Assertions.Expect(Page.Locator("#notification-next-attempt")).ToHaveTextAsync("\u2014");
        await Assertions.Expect(resend).ToBeFocusedAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task APagePastTheOldest_HasNoRows_AndLeadsBackToTheNewest()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.NewTransactionAsync();
        await api.NewTransactionAsync();
        var oldestNotification = (await api.GetJsonAsync("/v1/notifications"))["data"]!.AsArray()[^1]!.Str("id");
        var oldestEvent = (await api.GetJsonAsync("/v1/events"))["data"]!.AsArray()[^1]!.Str("id");

        await SignInAsync(key);
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        // An "Older" page with nothing on it (the oldest was the last of the page before, or purged since).
        await OpenAsync("/portal/notifications?after=" + oldestNotification);
        await ExpectAsync(Page.Locator("main"), "No older notifications: the oldest that match are on the page before");
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newest" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(2);
        // The newest page has no way to itself.
        await Assertions.Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Newest" })).ToHaveCountAsync(0);

        await OpenAsync("/portal/events?after=" + oldestEvent);
        await ExpectAsync(Page.Locator("main"), "No older events");
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newest" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Events'] tbody tr")).ToHaveCountAsync(2);
    }
}
