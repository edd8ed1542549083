using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

public sealed class EndpointTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 60_000)]
    public async Task AddEndpoint_ShowsItsSecretExactlyOnce()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Add endpoint" }).ClickAsync();
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByLabel("Payload format").SelectOptionAsync("thin");
        await Page.GetByLabel("PAYMENT_ORDER.CLOSED").CheckAsync();
        await Page.GetByLabel("Retry policy").SelectOptionAsync("hourly");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();

        var secret = await Page.Locator("#secret-value").InnerTextAsync();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await ExpectAsync(Page.Locator("#new-secret"), "shown only this once");
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeVisibleAsync();
        await ExpectAsync(Page.Locator("form", new() { HasText = "Save settings" }), "PAYMENT_ORDER.CLOSED");

        await Page.ReloadAsync();
        await Assertions.Expect(Page.Locator("#new-secret")).ToHaveCountAsync(0);
        Assert.DoesNotContain(secret, await Page.ContentAsync(), StringComparison.Ordinal);
        await OpenAsync("/portal/endpoints");
        await ExpectAsync(Page.Locator("table"), Receiver.Url);
        Assert.DoesNotContain(secret, await Page.ContentAsync(), StringComparison.Ordinal);
        await ScreenshotAsync("endpoints");
    }

    [Fact(Timeout = 60_000)]
    public async Task AddEndpoint_WithAnInvalidUrl_SaysWhy()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/new");
        await Page.GetByLabel("URL").FillAsync("ftp://example.com/hooks");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();

        await Assertions.Expect(Page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await OpenAsync("/portal/endpoints");
        await ExpectAsync(Page.Locator("main"), "No endpoints yet");
    }

    [Fact(Timeout = 60_000)]
    public async Task Delete_FromTheEndpointPage_AfterSayingWhatItDoes_EndsItsDeliveries_AndKeepsItsLog()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync("http://127.0.0.1:9/nowhere", "transaction");
        var transaction = await api.NewTransactionAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);
        Assert.Equal("127.0.0.1:9/nowhere · Endpoint · Herald", await Page.TitleAsync());

        var delete = Page.GetByRole(AriaRole.Button, new() { Name = "Delete endpoint for good" });
        await Assertions.Expect(delete).Not.ToBeVisibleAsync();
        await Page.GetByText("Delete this endpoint").ClickAsync();
        await ExpectAsync(Page.Locator("details"), "its pending notifications die");
        await ExpectAsync(Page.Locator("details"), "its signing secrets and its headers of its own are erased");
        await delete.ClickAsync();

        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Endpoints", Exact = true })).ToBeVisibleAsync();
        await ExpectAsync(Page.Locator("#notice"), $"Endpoint {id} deleted");
        await ExpectAsync(Page.Locator("main"), "No endpoints yet");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetAsync($"/v1/endpoints/{id}")).StatusCode);
        var log = await api.GetJsonAsync($"/v1/notifications?entity_id={transaction}");
        Assert.Equal("dead", Assert.Single(log["data"]!.AsArray())!["status"]!.GetValue<string>());
        // The page of a deleted endpoint is gone, and so is its form.
        Assert.Equal(404, (await OpenAsync("/portal/endpoints/" + id)).Status);
        Assert.Equal("Not found · Herald", await Page.TitleAsync());
        await Page.GetByRole(AriaRole.Link, new() { Name = "Back to endpoints" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Endpoints", Exact = true })).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task AnEndpointWhoseAttemptsFail_IsShownFailing_SinceItsFirstFailure_InTheListAndOnItsPage()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 503;
        var order = (await api.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        await api.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        // Written once the attempt's outcome is.
        await HeraldHost.EventuallyAsync(async () => (await api.GetJsonAsync($"/v1/endpoints/{id}"))["failing_since"] is not null);
        await SignInAsync(key);

        await OpenAsync("/portal/endpoints");
        var row = Page.Locator($"tr[data-endpoint='{id}']");
        await ExpectAsync(row.Locator(".badge"), "failing");
        await ExpectAsync(row, "since ");
        await OpenAsync("/portal/endpoints/" + id);
        await Assertions.Expect(Page.Locator("#endpoint-state")).ToHaveTextAsync("failing");
        await ExpectAsync(Page.Locator("#failing-since"), "has failed (see the log); after 5 in a row it gets one attempt at a time; after 5 days of nothing but failures it is disabled");
    }

    [Fact(Timeout = 60_000)]
    public async Task APointIntegrationUrl_IsShownFailingAsOnTheEndpointsPage_AndCannotBeAddedTwice()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "point");
        Receiver.Status = 503;
        var intent = (await api.PostJsonAsync("/v1/payment_intents", new { amount = 100, site = "mlb", client_id = 1, caller_id = 2, additional_info = new { external_reference = "x" } })).Str("id");
        await api.PostJsonAsync($"/v1/payment_intents/{intent}/transitions", new { to = "CANCELED" }, 200);
        await HeraldHost.EventuallyAsync(async () => (await api.GetJsonAsync($"/v1/endpoints/{id}"))["failing_since"] is not null);
        await SignInAsync(key);

        await OpenAsync("/portal/point");
        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Point integration URLs" });
        await ExpectAsync(table.Locator(".badge"), "failing");
        await ExpectAsync(table.Locator("td[data-label='State'] .hint"), "since ");

        // The same URL again, its scheme in capitals, would send its receiver every notification twice.
        await Page.GetByLabel("Notification URL").FillAsync("HTTP" + Receiver.Url[4..]);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add integration URL" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), $"is a Point integration URL already ({id})");
        await Assertions.Expect(Page.GetByLabel("Notification URL")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Single((await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());

        // Held, it says by whom and when, as the endpoints page does.
        await api.PostJsonAsync($"/v1/endpoints/{id}/pause", new { }, 200);
        await OpenAsync("/portal/point");
        await ExpectAsync(table.Locator(".badge"), "paused");
        await ExpectAsync(table.Locator("td[data-label='State'] .hint"), "by the merchant, ");
    }

    [Fact(Timeout = 60_000)]
    public async Task PauseResumeTestAndRotate_FromTheEndpointPage_ChangeTheEndpointAndSayWhatHappened()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, firstSecret) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(Page.Locator("#endpoint-state")).ToHaveTextAsync("paused");
        await ExpectAsync(Page.Locator("#disabled-reason"), "paused by the merchant");
        await ScreenshotAsync("endpoint");
        // In the list, beside its badge, the reason does not say "paused" again.
        await OpenAsync("/portal/endpoints");
        var row = Page.Locator($"tr[data-endpoint='{id}']");
        await ExpectAsync(row.Locator(".badge"), "paused");
        await Assertions.Expect(row.Locator(".hint")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^ by the merchant, "));
        await OpenAsync("/portal/endpoints/" + id);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Assertions.Expect(Page.Locator("#endpoint-state")).ToHaveTextAsync("enabled");
        await Assertions.Expect(Page.Locator("#disabled-reason")).ToHaveCountAsync(0);

        Receiver.Status = 503;
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send test notification" }).ClickAsync();
        await ExpectAsync(Page.Locator("#test-result"), "Test notification failed: HTTP 503");
        // The receiver's reply is shown as it answered.
        await ExpectAsync(Page.Locator("#test-reply"), "answer 503");
        Assert.Contains("HERALD.TEST", Receiver.Received.Last().Body, StringComparison.Ordinal);
        // A receiver's error page, every character of it escaped on its way into the cookie that
        // carries the reply to the next page: its start is shown, and the portal stays usable.
        Receiver.ResponseBody = "<html>" + string.Concat(Enumerable.Repeat("<p>&lt;not found&gt; \"é\"</p>", 400)) + "</html>";
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send test notification" }).ClickAsync();
        await ExpectAsync(Page.Locator("#test-result"), "HTTP 503");
        var shown = await Page.Locator("#test-reply").InnerTextAsync();
        Assert.StartsWith("<html><p>&lt;not found&gt;", shown, StringComparison.Ordinal);
        Assert.EndsWith("…", shown, StringComparison.Ordinal);
        Assert.True(shown.Length <= global::Herald.Server.Portal.Pages.Endpoints.DetailModel.TestReplyShown + 1, shown.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(System.Net.HttpStatusCode.OK, (System.Net.HttpStatusCode)(await OpenAsync("/portal/endpoints/" + id)).Status);
        Receiver.ResponseBody = null;
        // An example of an event type the endpoint's format carries, as a delivery of it looks.
        Receiver.Status = 200;
        await Page.Locator("#test-event-type").SelectOptionAsync("PAYMENT_ORDER.CLOSED");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send test notification" }).ClickAsync();
        // The reply names what was sent: the example, not Herald's own test notification.
        await ExpectAsync(Page.Locator("#test-result"), "Test (PAYMENT_ORDER.CLOSED example) received: HTTP 200");
        var example = Receiver.Received.Last();
        Assert.Contains("\"event_type\":\"PAYMENT_ORDER.CLOSED\"", example.Body, StringComparison.Ordinal);
        Assert.Contains($"\"id\":\"{example.Headers["webhook-id"]}\"", example.Body, StringComparison.Ordinal);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        var rotated = await Page.Locator("#secret-value").InnerTextAsync();
        Assert.StartsWith("whsec_", rotated, StringComparison.Ordinal);
        Assert.NotEqual(firstSecret, rotated);
        await ExpectAsync(Page.Locator("#notice"), "previous ones keep signing until");
        await Page.ReloadAsync();
        await Assertions.Expect(Page.Locator("#secret-value")).ToHaveCountAsync(0);

        // Five secrets signing: one more with a grace is refused, saying why and what to do instead.
        for (var i = 0; i < 3; i++)
        {
            await api.PostJsonAsync($"/v1/endpoints/{id}/rotate_secret", new { grace_seconds = 3600 }, 200);
        }
        await Page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        await ExpectAsync(Page.Locator(".notice.error"), "at most 5 sign at once");
        // In the page's own words: its choice of grace, and a time written as the portal writes times.
        await ExpectAsync(Page.Locator(".notice.error"), "Rotate with Previous secrets keep signing set to \u201cnot at all\u201d");
        await Assertions.Expect(Page.Locator(".notice.error")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"wait until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, when"));
        await Assertions.Expect(Page.Locator(".notice.error")).Not.ToContainTextAsync("grace_seconds");
        await Assertions.Expect(Page.Locator(".notice.error")).Not.ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"\d\dT\d\d:"));
        await Assertions.Expect(Page.Locator("#secret-value")).ToHaveCountAsync(0);
        await Page.GetByLabel("Previous secrets keep signing").SelectOptionAsync("0");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Rotate secret" }).ClickAsync();
        Assert.StartsWith("whsec_", await Page.Locator("#secret-value").InnerTextAsync(), StringComparison.Ordinal);
        await ExpectAsync(Page.Locator("#notice"), "the previous ones no longer sign");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Assertions.Expect(Page.Locator("#endpoint-state")).ToHaveTextAsync("disabled");
        await ExpectAsync(Page.Locator("#disabled-reason"), "disabled by the merchant");
    }

    [Fact(Timeout = 60_000)]
    public async Task SendTestNotification_ThenReloadOrBackAndForward_SendsItOnce()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        Receiver.Status = 503;
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send test notification" }).ClickAsync();
        await ExpectAsync(Page.Locator("#test-result"), "HTTP 503");
        // Said once: the status is the whole of the reason.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(await Page.Locator("#test-result").InnerTextAsync(), "HTTP 503"));
        Assert.Single(Receiver.Received);
        // The reply is shown once, on the endpoint's own address: reloading it sends no second test.
        Assert.Equal(BaseUrl + "/portal/endpoints/" + id, Page.Url);
        await Page.ReloadAsync();
        await Assertions.Expect(Page.Locator("#test-result")).ToHaveCountAsync(0);
        await Page.GoBackAsync();
        await Page.GoForwardAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Send test notification" })).ToBeVisibleAsync();
        Assert.Single(Receiver.Received);
    }

    [Fact(Timeout = 60_000)]
    public async Task CheckoutPreference_WithAWebhook_IsListedWithItsEndpoint()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/preferences");
        await Page.GetByLabel("custom_urls.status_changes_webhook").FillAsync(Receiver.Url);
        await Page.GetByLabel("External reference").FillAsync("order-42");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create preference" }).ClickAsync();
        // The webhook's signing secret is shown this once.
        await ExpectAsync(Page.Locator("#new-secret"), "whsec_");

        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Checkout preferences" });
        await ExpectAsync(table, "order-42");
        await table.GetByRole(AriaRole.Link, new() { Name = Receiver.Url }).ClickAsync();
        await ExpectAsync(Page.Locator("dl.facts"), "checkout_preference");
    }

    [Fact(Timeout = 60_000)]
    public async Task CheckoutPreferences_AtOneUrl_ShareItsEndpoint_AndEachIsShownItsSecret()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        var secrets = new List<string>();
        foreach (var reference in new[] { "order-1", "order-2" })
        {
            await OpenAsync("/portal/preferences");
            await Page.GetByLabel("custom_urls.status_changes_webhook").FillAsync(Receiver.Url);
            await Page.GetByLabel("External reference").FillAsync(reference);
            await Page.GetByRole(AriaRole.Button, new() { Name = "Create preference" }).ClickAsync();
            await ExpectAsync(Page.Locator("#new-secret"), "Every preference at this URL shares its endpoint and this secret");
            secrets.Add(await Page.Locator("#secret-value").InnerTextAsync());
        }
        // One secret verifies the orders of both.
        Assert.StartsWith("whsec_", secrets[0], StringComparison.Ordinal);
        Assert.Equal(secrets[0], secrets[1]);

        var links = Page.GetByRole(AriaRole.Table, new() { Name = "Checkout preferences" }).GetByRole(AriaRole.Link, new() { Name = Receiver.Url });
        await Assertions.Expect(links).ToHaveCountAsync(2);
        Assert.Single((await Task.WhenAll((await links.AllAsync()).Select(l => l.GetAttributeAsync("href")))).Distinct());
        await OpenAsync("/portal/endpoints");
        await Assertions.Expect(Page.Locator("table[aria-label='Endpoints made by checkout preferences'] tbody tr")).ToHaveCountAsync(1);
        await Page.GetByRole(AriaRole.Link, new() { Name = Receiver.Url }).ClickAsync();
        await ExpectAsync(Page.Locator("#source"), "made by checkout preference pref_");
        await ExpectAsync(Page.Locator("#source"), "every checkout preference at its URL");
    }

    [Fact(Timeout = 60_000)]
    public async Task EventTypes_ListWhatEachFormatNotifies_WithAnExampleOfItsBody()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Portal" }).GetByRole(AriaRole.Link, new() { Name = "Event types" }).ClickAsync();

        var transaction = Page.GetByRole(AriaRole.Region, new() { Name = "transaction" });
        await transaction.GetByText("TRANSACTION.COMPLETED", new() { Exact = true }).ClickAsync();
        var example = Page.GetByLabel("Example of TRANSACTION.COMPLETED");
        await ExpectAsync(example, "\"status\": \"COMPLETED\"");
        await ExpectAsync(example, "\"merchantReference\": \"orde123\"");
        var point = Page.GetByRole(AriaRole.Region, new() { Name = "point" });
        // Seed 000 notifies three states of an intent, not its OPEN.
        await Assertions.Expect(point.Locator("details")).ToHaveCountAsync(3);
        await Assertions.Expect(point.GetByText("PAYMENT_INTENT.OPEN")).ToHaveCountAsync(0);
        await Page.GetByRole(AriaRole.Region, new() { Name = "thin" }).GetByText("PAYMENT_ORDER.CLOSED", new() { Exact = true }).ClickAsync();
        await ExpectAsync(Page.GetByLabel("Example of PAYMENT_ORDER.CLOSED"), "\"event_type\": \"PAYMENT_ORDER.CLOSED\"");
    }

    [Fact(Timeout = 90_000)]
    public async Task CheckoutPreferences_AreListedAPageAtATime()
    {
        var (api, key) = await NewMerchantAsync();
        var references = new List<string>();
        for (var i = 0; i < 27; i++)
        {
            references.Add($"order-{i:00}");
            await api.PostJsonAsync("/v1/checkout_preferences", new { external_reference = references[^1] });
        }

        await SignInAsync(key);
        await OpenAsync("/portal/preferences");
        var cells = Page.Locator("table[aria-label='Checkout preferences'] tbody td[data-label='External reference']");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Assertions.Expect(cells).ToHaveCountAsync(25);
        var newest = await cells.AllInnerTextsAsync();
        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        await Assertions.Expect(cells).ToHaveCountAsync(2);
        Assert.Equal(references.Order(), newest.Concat(await cells.AllInnerTextsAsync()).Order());
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Older" })).ToHaveCountAsync(0);
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newer" }).ClickAsync();
        await Assertions.Expect(cells).ToHaveCountAsync(25);
        Assert.Equal(newest, await cells.AllInnerTextsAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task Endpoints_OwnOnesComeFirstWhole_ThoseOfPreferencesAPageAtATime_AndTheNotificationFilterOffersTheOwn()
    {
        var (api, key) = await NewMerchantAsync();
        var own = new List<string>();
        for (var i = 0; i < 22; i++)
        {
            own.Add($"http://127.0.0.1:9/own-{i:00}");
            await api.PostJsonAsync("/v1/endpoints", new { url = own[^1], format = "thin" });
        }
        // Each checkout preference with a webhook makes an endpoint: a merchant may have many, made
        // after its own, which must not sink below them.
        var fromPreferences = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            fromPreferences.Add($"http://127.0.0.1:9/preference-{i:00}");
            await api.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = fromPreferences[^1] } });
        }

        await SignInAsync(key);
        await OpenAsync("/portal/endpoints");
        var ownCells = Page.Locator("table[aria-label='Your endpoints'] tbody td[data-label='URL']");
        var cells = Page.Locator("table[aria-label='Endpoints made by checkout preferences'] tbody td[data-label='URL']");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Assertions.Expect(ownCells).ToHaveCountAsync(22);
        Assert.Equal(own.Order(), (await ownCells.AllInnerTextsAsync()).Order());
        await Assertions.Expect(cells).ToHaveCountAsync(50);
        var newest = await cells.AllInnerTextsAsync();
        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        await Assertions.Expect(cells).ToHaveCountAsync(10);
        await Assertions.Expect(ownCells).ToHaveCountAsync(0);
        Assert.Equal(fromPreferences.Order(), newest.Concat(await cells.AllInnerTextsAsync()).Order());
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newer" }).ClickAsync();
        await Assertions.Expect(cells).ToHaveCountAsync(50);
        await Assertions.Expect(ownCells).ToHaveCountAsync(22);

        await OpenAsync("/portal/notifications");
        var options = Page.Locator("#endpoint option");
        await Assertions.Expect(options).ToHaveCountAsync(own.Count + 1);
        Assert.Equal(own.Select(url => url + " (thin)").Order(), (await options.AllInnerTextsAsync()).Skip(1).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task SaveSettings_FromAPageOpenedBeforeAnotherChange_IsRefused_AndUndoesNothing()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);
        // Changed through the API (or another tab) while this page stays open; a pause changes no setting.
        var patched = await System.Net.Http.Json.HttpClientJsonExtensions.PatchAsJsonAsync(api, "/v1/endpoints/" + id, new { rate_limit = 5 });
        Assert.True(patched.IsSuccessStatusCode);
        await api.PostJsonAsync($"/v1/endpoints/{id}/pause", new { }, 200);

        await Page.GetByLabel("Description").FillAsync("Shop checkout");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();

        await ExpectAsync(Page.Locator(".notice.error"), "changed elsewhere");
        // The answer has the keyboard's focus: a screen reader reads it, the next Tab goes on from it.
        await Assertions.Expect(Page.Locator(".notice.error")).ToBeFocusedAsync();
        var endpoint = await api.GetJsonAsync("/v1/endpoints/" + id);
        Assert.Equal(5, endpoint["rate_limit"]!.GetValue<int>());
        Assert.Null(endpoint["description"]);
        // The settings as they are now, to make the change on.
        await Assertions.Expect(Page.GetByLabel("Most attempts per second")).ToHaveValueAsync("5");
        await Page.GetByLabel("Description").FillAsync("Shop checkout");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        await Assertions.Expect(Page.Locator("#notice")).ToBeFocusedAsync();
        endpoint = await api.GetJsonAsync("/v1/endpoints/" + id);
        Assert.Equal(5, endpoint["rate_limit"]!.GetValue<int>());
        Assert.Equal("Shop checkout", endpoint.Str("description"));

        // A pause between the page and its save changes no setting: the save goes through.
        await api.PostJsonAsync($"/v1/endpoints/{id}/resume", new { }, 200);
        await Page.GetByLabel("Description").FillAsync("Shop checkout, resumed");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
    }

    [Fact(Timeout = 60_000)]
    public async Task SaveSettings_OfAnEndpoint_ChangesWhatTheApiReports()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        await Page.GetByLabel("Description").FillAsync("Shop checkout");
        await Page.GetByLabel("TRANSACTION.COMPLETED").CheckAsync();
        await Page.GetByLabel("Retry policy").SelectOptionAsync("exponential");
        await Page.GetByLabel("Timeout (seconds)").FillAsync("30");
        await Page.GetByLabel("Most attempts at once").FillAsync("4");
        await Page.GetByLabel("Most attempts per second").FillAsync("25");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();

        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        await Assertions.Expect(Page.GetByLabel("TRANSACTION.COMPLETED")).ToBeCheckedAsync();
        await Assertions.Expect(Page.GetByLabel("Description")).ToHaveValueAsync("Shop checkout");
        var endpoint = await api.GetJsonAsync("/v1/endpoints/" + id);
        Assert.Equal("exponential", endpoint.Str("retry"));
        Assert.Equal(30, endpoint["timeout_seconds"]!.GetValue<int>());
        Assert.Equal(4, endpoint["max_concurrency"]!.GetValue<int>());
        Assert.Equal(25, endpoint["rate_limit"]!.GetValue<int>());
        Assert.Equal(["TRANSACTION.COMPLETED"], endpoint["event_types"]!.AsArray().Select(t => t!.GetValue<string>()));

        // Back to the format's own policy (hourly for transaction).
        await Page.GetByLabel("Retry policy").SelectOptionAsync(new SelectOptionValue { Label = "Format default" });
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        Assert.Equal("hourly", (await api.GetJsonAsync("/v1/endpoints/" + id)).Str("retry"));

        // No event type ticked is every event type again: the filter goes, it is not spelled out.
        await Page.GetByLabel("TRANSACTION.COMPLETED").UncheckAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        Assert.Null((await api.GetJsonAsync("/v1/endpoints/" + id))["event_types"]);
        await Assertions.Expect(Page.GetByLabel("TRANSACTION.COMPLETED")).Not.ToBeCheckedAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Headers_SetInTheEndpointForm_GoWithItsRequests_AndARefusedOneSaysWhy()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/new");
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByLabel("Payload format").SelectOptionAsync("thin");
        await Page.GetByLabel("Headers of your own").FillAsync("Authorization: Bearer gw-7\nX-Shop: north");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.Locator("#new-secret"), "shown only this once");
        // The credential is never shown again; the rest is.
        await Assertions.Expect(Page.GetByLabel("Headers of your own")).ToHaveValueAsync("Authorization: ********\nX-Shop: north");

        await api.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var delivered = await Receiver.WaitForAsync(1);
        Assert.Equal("Bearer gw-7", delivered.Headers["authorization"]);
        Assert.Equal("north", delivered.Headers["x-shop"]);

        // One Herald sets itself is refused, and the endpoint keeps its own.
        await Page.GetByLabel("Headers of your own").FillAsync("webhook-signature: forged");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator(".notice.error"), "webhook-signature is set by Herald itself");
        var endpoint = (await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray().Single()!;
        Assert.Equal("north", endpoint["headers"]!.Str("X-Shop"));

        // Saved as shown, another header changed: the hidden credential keeps its value.
        await OpenAsync("/portal/endpoints/" + endpoint.Str("id"));
        await Page.GetByLabel("Headers of your own").FillAsync("Authorization: ********\nX-Shop: south");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        await api.PostJsonAsync("/v1/payment_orders", new { amount = 11, currency = "BRL" });
        var again = await Receiver.WaitForAsync(2);
        Assert.Equal("Bearer gw-7", again.Headers["authorization"]);
        Assert.Equal("south", again.Headers["x-shop"]);

        // Moved to another host with the credential still hidden: refused, both fields marked.
        await OpenAsync("/portal/endpoints/" + endpoint.Str("id"));
        await Page.GetByLabel("URL").FillAsync(Receiver.Url.Replace("127.0.0.1", "127.0.0.2", StringComparison.Ordinal));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator(".notice.error"), "url moves the endpoint to another host; headers: give them again");
        await Assertions.Expect(Page.GetByLabel("URL")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("Headers of your own")).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Equal(Receiver.Url, (await api.GetJsonAsync("/v1/endpoints/" + endpoint.Str("id"))).Str("url"));

        // Emptied, they are gone.
        await OpenAsync("/portal/endpoints/" + endpoint.Str("id"));
        await Page.GetByLabel("Headers of your own").FillAsync("");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        Assert.Null((await api.GetJsonAsync("/v1/endpoints/" + endpoint.Str("id")))["headers"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task AddEndpoint_CountsOnlyTheChosenFormatsEventTypes_AndNeverOffersOneTheFormatDoesNotSend()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/new");
        // A Point intent's OPEN is never notified (seed 000): not offered.
        await Assertions.Expect(Page.GetByLabel("PAYMENT_INTENT.OPEN")).ToHaveCountAsync(0);
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByLabel("Payload format").SelectOptionAsync("transaction");
        await Page.GetByLabel("PAYMENT_ORDER.CLOSED").CheckAsync();
        await Page.GetByLabel("TRANSACTION.COMPLETED").CheckAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();

        await ExpectAsync(Page.Locator("#new-secret"), "shown only this once");
        var endpoints = (await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray();
        Assert.Equal(["TRANSACTION.COMPLETED"], endpoints[0]!["event_types"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact(Timeout = 60_000)]
    public async Task ARefusedSave_OfAThinEndpoint_ShowsItsOwnFormat_AndKeepsTheTicksTyped()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin", new { event_types = new[] { "PAYMENT_ORDER.CLOSED" } });
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        await Page.GetByLabel("PAYMENT_ORDER.REFUNDED").CheckAsync();
        await Page.GetByLabel("URL").FillAsync("ftp://example.com/orders");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();

        await ExpectAsync(Page.Locator(".notice.error"), "url must use https or http");
        var settings = Page.Locator("form", new() { HasText = "Save settings" });
        await ExpectAsync(settings, "Format: thin");
        await Assertions.Expect(Page.GetByLabel("TRANSACTION.COMPLETED")).ToHaveCountAsync(0);
        await Assertions.Expect(Page.GetByLabel("PAYMENT_ORDER.CLOSED")).ToBeCheckedAsync();
        await Assertions.Expect(Page.GetByLabel("PAYMENT_ORDER.REFUNDED")).ToBeCheckedAsync();

        // The URL put right, the save keeps the event types ticked rather than clearing the filter.
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await ExpectAsync(Page.Locator("#notice"), "Settings saved.");
        var endpoint = await api.GetJsonAsync("/v1/endpoints/" + id);
        Assert.Equal(["PAYMENT_ORDER.CLOSED", "PAYMENT_ORDER.REFUNDED"], endpoint["event_types"]!.AsArray().Select(t => t!.GetValue<string>()).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task ARefusedAction_SaysWhy_AndTheSettingsStayAsTheEndpointHasThem()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin", new { description = "Orders", max_concurrency = 3 });
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        // A recover without its time (the browser would ask for it; the server refuses it too).
        await Page.EvaluateAsync("document.getElementById('recover-since').removeAttribute('required')");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resend failed" }).ClickAsync();

        await ExpectAsync(Page.Locator(".notice.error"), "since: choose the time");
        await Assertions.Expect(Page.GetByLabel("Failed since (UTC)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("URL")).ToHaveValueAsync(Receiver.Url);
        await Assertions.Expect(Page.GetByLabel("Description")).ToHaveValueAsync("Orders");
        await Assertions.Expect(Page.GetByLabel("Most attempts at once")).ToHaveValueAsync("3");
    }

    [Fact(Timeout = 60_000)]
    public async Task Recover_SaysHowManyWereQueued_InPlainWords()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        await Page.GetByLabel("Failed since (UTC)").FillAsync("2026-01-01T00:00");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resend failed" }).ClickAsync();

        await Assertions.Expect(Page.Locator("#notice")).ToHaveTextAsync("0 failed notifications queued to be sent again.");
    }

    [Fact(Timeout = 60_000)]
    public async Task EndpointsList_ShowsEachEndpointsDescription_SoThoseOnOneHostAreToldApart()
    {
        var (api, key) = await NewMerchantAsync();
        var (orders, _) = await api.AddEndpointAsync(Receiver.Url + "/hooks", "thin", new { description = "Orders <b>live</b> & co" });
        var (staging, _) = await api.AddEndpointAsync(Receiver.Url + "/hooks", "thin", new { description = "Staging" });
        var (bare, _) = await api.AddEndpointAsync(Receiver.Url + "/other", "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints");

        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Your endpoints" });
        await Assertions.Expect(table.Locator("thead th").Nth(1)).ToHaveTextAsync("Description");
        // As typed, escaped: markup in a description is shown, never drawn.
        await Assertions.Expect(table.Locator($"tr[data-endpoint='{orders}'] td[data-label='Description']")).ToHaveTextAsync("Orders <b>live</b> & co");
        await Assertions.Expect(table.Locator("b")).ToHaveCountAsync(0);
        await Assertions.Expect(table.Locator($"tr[data-endpoint='{staging}'] td[data-label='Description']")).ToHaveTextAsync("Staging");
        await Assertions.Expect(table.Locator($"tr[data-endpoint='{bare}'] td[data-label='Description']")).ToHaveTextAsync("\u2014");
    }

    [Fact(Timeout = 60_000)]
    public async Task TheLogsEndpointFilter_TellsApartEndpointsOnOneUrl_ByFormatAndDescription()
    {
        var (api, key) = await NewMerchantAsync();
        // One receiver taking two formats, and a staging twin: three endpoints on one URL.
        var (transactions, _) = await api.AddEndpointAsync(Receiver.Url + "/hooks", "transaction");
        var (orders, _) = await api.AddEndpointAsync(Receiver.Url + "/hooks", "thin", new { description = "Orders <b>live</b>" });
        var (staging, _) = await api.AddEndpointAsync(Receiver.Url + "/hooks", "thin", new { description = "Staging" });
        await SignInAsync(key);
        await OpenAsync("/portal/notifications");

        var filter = Page.GetByLabel("Endpoint", new() { Exact = true });
        await Assertions.Expect(filter.Locator($"option[value='{transactions}']")).ToHaveTextAsync(Receiver.Url + "/hooks (transaction)");
        await Assertions.Expect(filter.Locator($"option[value='{orders}']")).ToHaveTextAsync(Receiver.Url + "/hooks (thin, Orders <b>live</b>)");
        await Assertions.Expect(filter.Locator($"option[value='{staging}']")).ToHaveTextAsync(Receiver.Url + "/hooks (thin, Staging)");
        await filter.SelectOptionAsync(new SelectOptionValue { Label = Receiver.Url + "/hooks (thin, Staging)" });
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"endpoint={staging}"));
    }
}
