using System.Net.Http.Json;
using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

public sealed class SignInTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithAWrongKey_ShowsAClearMessage_AndStaysSignedOut()
    {
        await OpenAsync("/portal/signin");
        await ScreenshotAsync("sign-in");

        await SignInAsync("hk_this_is_not_a_key");

        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "That API key was not recognised");
        // The field itself says it was refused, and why, to a screen reader on it.
        await Assertions.Expect(Page.GetByLabel("API key")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(Page.GetByLabel("API key")).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("^That API key was not recognised"));
        // The key's field keeps the focus, to be typed in again, the refusal read with it.
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeFocusedAsync();
        var response = await OpenAsync("/portal/notifications");
        Assert.EndsWith("/portal/signin?ReturnUrl=%2Fportal%2Fnotifications", response.Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithAMerchantKey_OpensTheOverview_AndSignOutEndsTheSession()
    {
        var (_, key) = await NewMerchantAsync("Acme Books");

        await SignInAsync(key);

        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await ExpectAsync(Page.Locator("header"), "Acme Books");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
        // Said, and read out: the focus is on what the click came to.
        await Assertions.Expect(Page.Locator("#signed-out")).ToHaveTextAsync("You are signed out.");
        await Assertions.Expect(Page.Locator("#signed-out")).ToBeFocusedAsync();
        await OpenAsync("/portal/endpoints");
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task SignOut_EndsTheSessionOnTheServer_SoACopyOfItsCookieIsRefused()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        // A copy of the session's cookie, as one left on a shared machine or taken from it.
        var copy = (await Page.Context.CookiesAsync()).Where(c => c.Name == "herald_portal").ToList();
        Assert.Single(copy);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
        await Page.Context.AddCookiesAsync(copy.Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
        }));
        Assert.Contains("/portal/signin", (await OpenAsync("/portal/endpoints")).Url, StringComparison.Ordinal);

        // Signing in again makes a new session, which works.
        await SignInAsync(key);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        Assert.EndsWith("/portal/endpoints", (await OpenAsync("/portal/endpoints")).Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task ASession_LastsADayFromItsSignIn_HoweverOftenItIsUsed()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        // Used every six hours: still signed in at 18 hours, not past 24.
        for (var hours = 6; hours <= 18; hours += 6)
        {
            Herald.Clock.Advance(TimeSpan.FromHours(6));
            Assert.EndsWith("/portal/endpoints", (await OpenAsync("/portal/endpoints")).Url, StringComparison.Ordinal);
        }
        Herald.Clock.Advance(TimeSpan.FromHours(6.5));
        Assert.Contains("/portal/signin", (await OpenAsync("/portal/endpoints")).Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task EveryPortalPage_RefusesToBeFramed()
    {
        var (_, key) = await NewMerchantAsync();
        var signIn = await OpenAsync("/portal/signin");
        await SignInAsync(key);
        var overview = await OpenAsync("/portal");
        foreach (var response in new[] { signIn, overview })
        {
            var headers = await response.AllHeadersAsync();
            Assert.Equal("DENY", headers["x-frame-options"]);
            Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.Contains("script-src 'self';", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.StartsWith("default-src 'self';", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.Equal("nosniff", headers["x-content-type-options"]);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithAReturnAddressThatLeavesThePortalOrBreaksAHeader_OpensTheOverview()
    {
        var (_, key) = await NewMerchantAsync();
        foreach (var back in new[] { "%2Fportal%0D%0ASet-Cookie%3A%20x%3D1", "%2Fportal%2F..%2F..%2Fv1%2Fendpoints", "%2Fportal%5C..%5Cv1", "%2Fportal%2F%C3%A9" })
        {
            await OpenAsync("/portal/signin?ReturnUrl=" + back);
            await Page.GetByLabel("API key").FillAsync(key);
            await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
            Assert.EndsWith("/portal", Page.Url, StringComparison.Ordinal);
            await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task GuessingKeysAtTheSignIn_RunsOutOfTheAddresssBudget()
    {
        await OpenAsync("/portal/signin");
        // Posted as fast as a script would, with the form's own antiforgery token and cookie.
        var token = await Page.Locator("input[name='__RequestVerificationToken']").GetAttributeAsync("value");
        var statuses = new List<int>();
        for (var i = 0; i < 60 && !statuses.Contains(429); i++)
        {
            var form = Page.APIRequest.CreateFormData();
            form.Set("key", "hk_guess_" + i);
            form.Set("__RequestVerificationToken", token!);
            var answer = await Page.APIRequest.PostAsync(BaseUrl + "/portal/signin", new() { Form = form });
            statuses.Add(answer.Status);
            if (answer.Status == 429)
            {
                Assert.Contains("Too many unrecognised keys", await answer.TextAsync(), StringComparison.Ordinal);
            }
        }
        Assert.Equal(401, statuses[0]);
        Assert.Contains(429, statuses);
    }

    [Fact(Timeout = 60_000)]
    public async Task AKeyInTheSignInsAddress_SignsNoOneIn()
    {
        // A key belongs in the form's body: one in the address would stay in proxies' logs and the
        // browser's history, so the sign-in takes none from there.
        var (_, key) = await NewMerchantAsync();
        await OpenAsync("/portal/signin");
        var token = await Page.Locator("input[name='__RequestVerificationToken']").GetAttributeAsync("value");
        var form = Page.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        var answer = await Page.APIRequest.PostAsync(BaseUrl + "/portal/signin?key=" + Uri.EscapeDataString(key), new() { Form = form, MaxRedirects = 0 });
        // Read as no key at all: not recognised, the form's token taken.
        Assert.Equal(401, answer.Status);
        Assert.Contains("was not recognised", await answer.TextAsync(), StringComparison.Ordinal);

        await OpenAsync("/portal");
        Assert.Contains("/portal/signin", Page.Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task TheSignInAtAnAddressInAnotherCase_IsSentToThePortalsOwn_AndSignsIn()
    {
        // The portal's cookies are for /portal: at /Portal/SignIn the browser would not send them back.
        var (_, key) = await NewMerchantAsync();
        await OpenAsync("/Portal/SignIn?ReturnUrl=%2Fportal%2Fkeys");
        Assert.Equal(BaseUrl + "/portal/SignIn?ReturnUrl=%2Fportal%2Fkeys", Page.Url);
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "API keys" })).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task AnAddressNoPortalPageHas_ShowsThePortalsNotFoundPage()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        var response = await OpenAsync("/portal/no/such/page");
        Assert.Equal(404, response.Status);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Assertions.Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Back to notifications" })).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithTheAdminKey_IsRefused()
    {
        await SignInAsync(HeraldHost.AdminKey);

        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "That API key was not recognised");
    }

    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithAReadKey_SaysThePortalNeedsAFullKey_AndTheKeysPageMakesOne()
    {
        var (api, key) = await NewMerchantAsync();
        var reader = (await api.PostJsonAsync("/v1/api_keys", new { scope = "read" })).Str("api_key");

        await SignInAsync(reader);
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "That API key is read-only");
        var response = await OpenAsync("/portal/notifications");
        Assert.Contains("/portal/signin", response.Url, StringComparison.Ordinal);

        // Signed in with a full key, the keys page lists each key's scope and makes a read one.
        await SignInAsync(key);
        await OpenAsync("/portal/keys");
        await Page.Locator("#key-scope").SelectOptionAsync("read");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var made = await Page.Locator("#key-value").InnerTextAsync();
        using var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", made);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await client.PostAsync("/v1/api_keys", null)).StatusCode);
        Assert.Equal(2, await Page.GetByRole(AriaRole.Cell, new() { Name = "read", Exact = true }).CountAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task RevokingTheKey_EndsThePortalSessionsMadeWithIt()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        var keys = await api.GetJsonAsync("/v1/api_keys");
        var keyId = keys["data"]!.AsArray()[0]!.Str("id");
        using var revoked = await api.DeleteAsync("/v1/api_keys/" + keyId);
        Assert.True(revoked.IsSuccessStatusCode);

        await OpenAsync("/portal/notifications");

        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
    }

    [Fact(Timeout = 90_000)]
    public async Task ApiKeysPage_MakesAKeyShownOnce_RevokesIt_AndRevokingThisSessionsKeySignsOut()
    {
        var (api, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/keys");
        var table = Page.GetByRole(AriaRole.Table, new() { Name = "API keys" });
        var rows = table.Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await ExpectAsync(rows.First, "this session's key");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var made = (await Page.Locator("#key-value").InnerTextAsync()).Trim();
        var newId = (await Page.Locator("#new-key strong code").InnerTextAsync()).Trim();
        Assert.StartsWith("hk_", made, StringComparison.Ordinal);
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        // The new key opens the API; shown once, it is gone from the page when it is read again.
        using var second = Herald.As(made);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await second.GetAsync("/v1/notifications")).StatusCode);
        await Page.ReloadAsync();
        await Assertions.Expect(Page.Locator("#key-value")).ToHaveCountAsync(0);

        // Revoke asks first: its button is behind a disclosure that says what revoking does.
        var revoke = Page.GetByRole(AriaRole.Button, new() { Name = "Revoke for good " + newId, Exact = true });
        await Assertions.Expect(revoke).Not.ToBeVisibleAsync();
        await table.Locator("tr", new() { HasText = newId }).Locator("summary").ClickAsync();
        await ExpectAsync(table.Locator("tr", new() { HasText = newId }).Locator("details"), "This cannot be undone.");
        await revoke.ClickAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Status), "revoked");
        await ExpectAsync(table.Locator("tr", new() { HasText = newId }), "revoked");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await second.GetAsync("/v1/notifications")).StatusCode);

        var ownId = (await api.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray().Select(k => k.Str("id")).Single(id => id != newId);
        // What it shows says it signs out, and so does the spoken name of its button.
        var own = table.Locator("tr", new() { HasText = ownId });
        await Assertions.Expect(own.Locator("summary")).ToHaveTextAsync("Revoke (signs you out) " + ownId);
        await own.Locator("summary").ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Revoke for good and sign out " + ownId, Exact = true }).ClickAsync();
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
        // The sign-in says why it is shown, and the key stays revoked.
        await ExpectAsync(Page.Locator("#signout-revoked"), "is revoked, so you are signed out");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await api.GetAsync("/v1/notifications")).StatusCode);
        await OpenAsync("/portal/notifications");
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task AMerchantRenamedWhileSignedIn_IsShownByItsNewName()
    {
        var (_, key) = await NewMerchantAsync("Acme");
        await SignInAsync(key);
        await Assertions.Expect(Page.Locator("header .who")).ToHaveTextAsync("Acme");
        using var admin = Herald.As(HeraldHost.AdminKey);
        var id = (await admin.GetJsonAsync("/v1/merchants?limit=1"))["data"]!.AsArray()[0]!.Str("id");
        using var renamed = await admin.PatchAsJsonAsync($"/v1/merchants/{id}", new { name = "Acme Payments" });
        Assert.True(renamed.IsSuccessStatusCode);

        await OpenAsync("/portal/notifications");
        await Assertions.Expect(Page.Locator("header .who")).ToHaveTextAsync("Acme Payments");
        // The session goes on as it was.
        await OpenAsync("/portal/endpoints");
        await Assertions.Expect(Page.Locator("header .who")).ToHaveTextAsync("Acme Payments");
    }
}
