using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

public sealed class PortalLinkTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 60_000)]
    public async Task ALinkTheOperatorMade_SignsInToTheMerchantsOverview_Once()
    {
        using var admin = Herald.As(HeraldHost.AdminKey);
        var merchant = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme Books" })).Str("id");
        var url = (await admin.PostJsonAsync($"/v1/merchants/{merchant}/portal_links", new { })).Str("url");

        await Page.GotoAsync(url);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Acme Books's Herald portal" })).ToBeVisibleAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        Assert.EndsWith("/portal", Page.Url, StringComparison.Ordinal);
        await ExpectAsync(Page.Locator("header"), "Acme Books");

        var again = await Page.GotoAsync(url);
        Assert.Equal(410, again!.Status);
        await Assertions.Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "This sign-in link is no longer valid" })).ToBeVisibleAsync();
        await ExpectAsync(Page.GetByRole(AriaRole.Alert), "Ask for a new one");
        // Still signed in, as the merchant the link was for.
        await OpenAsync("/portal/endpoints");
        await ExpectAsync(Page.Locator("header"), "Acme Books");
    }
}
