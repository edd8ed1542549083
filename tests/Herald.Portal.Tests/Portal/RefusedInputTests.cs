using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

/// <summary>What the portal does with input a form or a link should not carry: it says so, and changes nothing.</summary>
public sealed class RefusedInputTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 90_000)]
    public async Task AddEndpoint_WithAnotherFormatsTypes_NoUrl_OrLettersForANumber_SaysWhy_AndMakesNothing()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);

        // Every format's event types are on the form; ticking only another format's is refused (it would mean all).
        await OpenAsync("/portal/endpoints/new");
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByLabel("Payload format").SelectOptionAsync("transaction");
        await Page.GetByLabel("PAYMENT_ORDER.CLOSED").CheckAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "are not the transaction format's");
        // The box ticked is marked, and described by the refusal; the others are not.
        await Assertions.Expect(Page.GetByLabel("PAYMENT_ORDER.CLOSED")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("PAYMENT_ORDER.CLOSED")).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("are not the transaction format's"));
        await Assertions.Expect(Page.GetByLabel("TRANSACTION.COMPLETED")).Not.ToHaveAttributeAsync("aria-invalid", "true");

        // The browser's own checks taken off: what a script or an old browser may send.
        await OpenAsync("/portal/endpoints/new");
        await Page.EvaluateAsync("() => { const u = document.getElementById('url'); u.removeAttribute('required'); u.type = 'text'; document.getElementById('timeout').type = 'text'; }");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "url is required");

        await Page.EvaluateAsync("() => { document.getElementById('timeout').type = 'text'; }");
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByLabel("Timeout (seconds)").FillAsync("abc");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "timeout_seconds must be a whole number, not 'abc'");

        // What was typed comes back with the refusal, where a number field can show it.
        await Page.EvaluateAsync("() => { document.getElementById('timeout').type = 'text'; }");
        await Page.GetByLabel("Timeout (seconds)").FillAsync("1.5");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "timeout_seconds must be a whole number, not '1.5'");
        await Assertions.Expect(Page.GetByLabel("Timeout (seconds)")).ToHaveValueAsync("1.5");

        Assert.Empty((await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact(Timeout = 90_000)]
    public async Task AnEndpointFormsRefusal_MarksTheFieldItNames_AndIsThatFieldsDescription()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        await SignInAsync(key);

        // The browser's own range check taken off: what a script or an old browser may send.
        await OpenAsync("/portal/endpoints/new");
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.EvaluateAsync("() => document.getElementById('timeout').removeAttribute('max')");
        await Page.GetByLabel("Timeout (seconds)").FillAsync("999");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "timeout_seconds must be between 1 and 60");
        // A screen reader on the field hears that it is wrong, and why; the other fields are not marked.
        await Assertions.Expect(Page.GetByLabel("Timeout (seconds)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("Timeout (seconds)")).ToHaveAccessibleDescriptionAsync("timeout_seconds must be between 1 and 60");
        await Assertions.Expect(Page.GetByLabel("URL")).Not.ToHaveAttributeAsync("aria-invalid", "true");

        // The same on an endpoint's settings; a field with a hint of its own keeps it.
        await OpenAsync("/portal/endpoints/" + id);
        await Page.GetByLabel("Headers of your own").FillAsync("not a header");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        var message = await Page.GetByRole(AriaRole.Alert).InnerTextAsync();
        Assert.StartsWith("headers", message, StringComparison.Ordinal);
        await Assertions.Expect(Page.GetByLabel("Headers of your own")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("Headers of your own")).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(message.Trim()) + " A credential"));
        await Assertions.Expect(Page.GetByLabel("Timeout (seconds)")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        Assert.Single((await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task APointOrPreferenceFormsRefusal_MarksTheFieldItNames_AndIsThatFieldsDescription()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);

        await OpenAsync("/portal/point");
        await Page.GetByLabel("Notification URL").FillAsync("ftp://example.com/point");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add integration URL" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "url must use https or http");
        await Assertions.Expect(Page.GetByLabel("Notification URL")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("Notification URL")).ToHaveAccessibleDescriptionAsync("url must use https or http");

        await OpenAsync("/portal/preferences");
        await Page.GetByLabel("custom_urls.status_changes_webhook").FillAsync("ftp://example.com/orders");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create preference" }).ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "custom_urls.status_changes_webhook must use https or http");
        await Assertions.Expect(Page.GetByLabel("custom_urls.status_changes_webhook")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("custom_urls.status_changes_webhook")).ToHaveAccessibleDescriptionAsync("custom_urls.status_changes_webhook must use https or http");
        await Assertions.Expect(Page.GetByLabel("External reference")).Not.ToHaveAttributeAsync("aria-invalid", "true");

        Assert.Empty((await api.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task AFormPostedToAnActionThePageDoesNotHave_DoesNothing_AndShowsThePage()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);
        var token = await Page.Locator("input[name='__RequestVerificationToken']").First.GetAttributeAsync("value");

        foreach (var path in new[] { $"/portal/endpoints/{id}?handler=Bogus", $"/portal/endpoints/{id}", "/portal?handler=x", "/portal/endpoints/ep_nothing" })
        {
            var response = await Page.Context.APIRequest.PostAsync(BaseUrl + path, new() { Form = FormOf(token!) });
            Assert.True(response.Status is 200 or 404, $"{path}: {response.Status}");
            Assert.DoesNotContain("statusCode", await response.TextAsync(), StringComparison.Ordinal);
        }
        Assert.True((await api.GetJsonAsync($"/v1/endpoints/{id}"))["enabled"]!.GetValue<bool>());
        var nowhere = await Page.Context.APIRequest.PostAsync(BaseUrl + "/portal/nowhere", new() { Form = FormOf(token!) });
        Assert.Equal(404, nowhere.Status);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheLogsFilters_SayWhatTheyLeftOut_AndTakeSeed003sDeclined()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        var declined = await api.NewTransactionAsync();
        await api.MoveAsync("transactions", declined, "DECLINED");
        await api.NewTransactionAsync();
        await SignInAsync(key);

        await OpenAsync("/portal/notifications?status=bogus&after=garbage");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "Status 'bogus' is not one there is; it was left out.");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "is not a notification id; the newest are shown.");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);

        await OpenAsync("/portal/notifications?type=TRANSACTION.DECLINED");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(1);
        // A type no format sends would only show an empty log: left out, the page saying why.
        await OpenAsync("/portal/notifications?type=PAYMENT_INTENT.OPEN");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "Event type 'PAYMENT_INTENT.OPEN' is never notified (no format sends it); it was left out.");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);
        // An id of another kind (an API key's, say) where the webhook id or the endpoint goes: left out, the page saying why.
        await OpenAsync("/portal/notifications?event=key_abc&endpoint=garbage");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "Webhook id 'key_abc' is not an id of its kind (evt_…); it was left out.");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "Endpoint 'garbage' is not an id of its kind (ep_…); it was left out.");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(Page.GetByLabel("Webhook id (event)")).ToHaveValueAsync("");
        // The events page reads its first page for a cursor that is no event id, instead of an empty one.
        await OpenAsync("/portal/events?after=garbage");
        await Assertions.Expect(Page.Locator("table tbody tr")).ToHaveCountAsync(3);
        await OpenAsync("/portal/notifications?type=TRANSACTION.DECLINED");
        // The filter offers only types some format notifies.
        await Assertions.Expect(Page.Locator("select[name='type'] option[value='PAYMENT_INTENT.OPEN']")).ToHaveCountAsync(0);
        // The alias taken is shown as the type it stands for, so filtering again keeps it.
        await Assertions.Expect(Page.Locator("select[name='type']")).ToHaveValueAsync("TRANSACTION.DECINED");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(1);

        // A time written as the API takes it shows in the time control, and stays the filter.
        await OpenAsync("/portal/notifications?since=2000-01-02T03:04:05.5Z");
        await Assertions.Expect(Page.GetByLabel("From (UTC)")).ToHaveValueAsync("2000-01-02T03:04:05");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(Page.GetByLabel("From (UTC)")).ToHaveValueAsync("2000-01-02T03:04:05");

        // A range ending before it starts says so, rather than showing nothing.
        await OpenAsync("/portal/notifications?since=2030-01-02T00:00&until=2030-01-01T00:00");
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "From must not be after To; the time range was left out.");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);
        // To the calendar's last second, taken in whole.
        Assert.Equal(200, (await OpenAsync("/portal/notifications?until=9999-12-31T23:59:59")).Status);
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(3);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheLogFilteredByADeletedEndpoint_KeepsThatFilterInItsControl()
    {
        var (api, key) = await NewMerchantAsync();
        var (gone, _) = await api.AddEndpointAsync("http://127.0.0.1:9/nowhere", "transaction");
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.NewTransactionAsync();
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/endpoints/{gone}")).StatusCode);
        await SignInAsync(key);

        await OpenAsync($"/portal/notifications?endpoint={gone}");
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.Locator("select[name='endpoint']")).ToHaveValueAsync(gone);
        // Its notifications tell it was one of the merchant's: said to be deleted.
        await Assertions.Expect(Page.Locator("select[name='endpoint'] option:checked")).ToHaveTextAsync(gone + " (deleted)");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(1);
    }

    /// <summary>Signs out in a new tab of the same browser, and gives that tab, on the sign-in page.</summary>
    private async Task<IPage> SignOutInAnotherTabAsync()
    {
        var other = await Page.Context.NewPageAsync();
        await other.GotoAsync(BaseUrl + "/portal/signout");
        await other.Locator("#main").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(other.GetByLabel("API key")).ToBeVisibleAsync();
        return other;
    }

    [Fact(Timeout = 90_000)]
    public async Task AFormOfAPageOpenedBeforeSigningInAgain_SaysThePageIsOutOfDate_AndChangesNothing()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        // Another tab signs out and in again: this page's forms carry the old session's token.
        var other = await SignOutInAnotherTabAsync();
        await other.GetByLabel("API key").FillAsync(key);
        await other.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Signed in there (the new session's cookie set) before that tab goes.
        await Assertions.Expect(other.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await other.CloseAsync();

        var refused = await Page.RunAndWaitForResponseAsync(() => Page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync(),
            r => r.Request.Method == "POST");
        Assert.Equal(400, refused.Status);
        // A portal page like any other, framed by nobody.
        Assert.Equal("DENY", refused.Headers["x-frame-options"]);
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "This page's form has expired or is out of date");
        await Assertions.Expect(Page.Locator("head link[rel='icon']")).ToHaveAttributeAsync("href", "data:,");
        Assert.True((await api.GetJsonAsync($"/v1/endpoints/{id}"))["enabled"]!.GetValue<bool>());
        await Page.GetByRole(AriaRole.Link, new() { Name = "Reload the page" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeVisibleAsync();
        Assert.False((await api.GetJsonAsync($"/v1/endpoints/{id}"))["enabled"]!.GetValue<bool>());
    }

    [Fact(Timeout = 90_000)]
    public async Task AFormPostedAfterItsSessionEnded_SaysAtTheSignInThatNothingWasDone_AndLeadsBackToItsPage()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/" + id);

        // Another tab signs out: this page's session has ended.
        await (await SignOutInAnotherTabAsync()).CloseAsync();

        await Page.GetByLabel("Description").FillAsync("Shop checkout");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();

        await ExpectAsync(Page.Locator("#form-unsent"), "was not done");
        Assert.Null((await api.GetJsonAsync($"/v1/endpoints/{id}"))["description"]);
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync(BaseUrl + "/portal/endpoints/" + id);
        await Assertions.Expect(Page.GetByLabel("Description")).ToHaveValueAsync("");
    }

    [Fact(Timeout = 90_000)]
    public async Task SigningOutOfAPageWhoseSessionEnded_IsSignedOut_NotAFormThatWasNotDone()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints");

        // Another tab signs out first.
        var other = await Page.Context.NewPageAsync();
        await other.GotoAsync(BaseUrl + "/portal/signout");
        await other.Locator("#main").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(other.GetByLabel("API key")).ToBeVisibleAsync();
        await other.CloseAsync();

        // This one's Sign out asked for what is so already: nothing was left undone.
        await Page.Locator("form[action='/portal/signout'] button").ClickAsync();
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
        await Assertions.Expect(Page.Locator("#form-unsent")).ToHaveCountAsync(0);
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync(BaseUrl + "/portal");
    }

    [Fact(Timeout = 60_000)]
    public async Task AnAddressTheServerRefuses_IsAPortalPage_NotTheApisJson()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);

        var response = await OpenAsync("/portal/notifications?entity=%00");

        Assert.Equal(400, response.Status);
        Assert.StartsWith("text/html", response.Headers["content-type"], StringComparison.Ordinal);
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "the query may not contain the NUL character (%00)");
        // No icon, as the other pages say: the browser asks no /favicon.ico to get a 404.
        await Assertions.Expect(Page.Locator("head link[rel='icon']")).ToHaveAttributeAsync("href", "data:,");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Back to the portal" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task AFormFieldHoldingNul_IsToldSo_NotThatThePageIsOutOfDate_AndChangesNothing()
    {
        var (_, key) = await NewMerchantAsync();
        await OpenAsync("/portal/signin");
        var token = await Page.Locator("input[name='__RequestVerificationToken']").First.GetAttributeAsync("value");
        var form = FormOf(token!);
        form.Set("key", key + "\0");

        // As the browser posts the form: asking for a page.
        var response = await Page.Context.APIRequest.PostAsync(BaseUrl + "/portal/signin",
            new() { Form = form, Headers = new Dictionary<string, string> { ["Accept"] = "text/html" } });

        Assert.Equal(400, response.Status);
        Assert.StartsWith("text/html", response.Headers["content-type"], StringComparison.Ordinal);
        var text = await response.TextAsync();
        Assert.Contains("A field of the form holds the NUL character (%00)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("expired or is out of date", text, StringComparison.Ordinal);
        // Sent as a multipart form, whose reader lets the NUL through, it is refused the same.
        var multipart = await Page.Context.APIRequest.PostAsync(BaseUrl + "/portal/signin",
            new() { Multipart = form, Headers = new Dictionary<string, string> { ["Accept"] = "text/html" } });
        Assert.Equal(400, multipart.Status);
        Assert.Contains("A field of the form holds the NUL character (%00)", await multipart.TextAsync(), StringComparison.Ordinal);
        // Not signed in by it, and the sign-in still works.
        await OpenAsync("/portal");
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Herald" })).ToBeVisibleAsync();
        await SignInAsync(key);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
    }

    private IFormData FormOf(string token)
    {
        var form = Page.Context.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token);
        return form;
    }
}
