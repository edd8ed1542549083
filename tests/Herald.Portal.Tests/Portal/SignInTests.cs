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
        await OpenAsync("/portal/endpoints");
        await Assertions.Expect(Page.GetByLabel("API key")).ToBeVisibleAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task SignIn_WithTheAdminKey_IsRefused()
    {
        await SignInAsync(HeraldHost.AdminKey);

        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "That API key was not recognised");
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
}
