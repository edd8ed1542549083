using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using Keys = Herald.Server.Portal.Pages.KeysModel;

namespace Herald.Portal.Tests.Portal;

public sealed class KeysTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 120_000)]
    public async Task KeysPage_ListsFiftyAPage_RevokedOnesIncluded_AndPagesBothWays()
    {
        var (api, key) = await NewMerchantAsync();
        // Keys made and revoked stay listed: a merchant that turns its keys over has many.
        var made = new List<string>();
        for (var i = 0; i < 55; i++)
        {
            var id = (await api.PostJsonAsync("/v1/api_keys", new { })).Str("id");
            made.Add(id);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/api_keys/{id}")).StatusCode);
        }

        await SignInAsync(key);
        await OpenAsync("/portal/keys");
        var ids = Page.Locator("table[aria-label='API keys'] tbody td[data-label='Id'] code");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await Assertions.Expect(ids).ToHaveCountAsync(50);
        var newest = await ids.AllInnerTextsAsync();
        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        // The rest: the keys made and revoked, and the key this session signed in with, each once.
        await Assertions.Expect(ids).ToHaveCountAsync(6);
        var older = await ids.AllInnerTextsAsync();
        var listed = newest.Concat(older).ToList();
        Assert.Equal(56, listed.Distinct().Count());
        Assert.Subset(listed.ToHashSet(), made.ToHashSet());
        Assert.Single(listed.Except(made));
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Older" })).ToHaveCountAsync(0);
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newer" }).ClickAsync();
        await Assertions.Expect(ids).ToHaveCountAsync(50);
        Assert.Equal(newest, await ids.AllInnerTextsAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task Revoke_AsksFirst_AndFromTheSecondPage_StaysOnIt()
    {
        var (api, key) = await NewMerchantAsync();
        // An active key older than a page of newer ones: it is listed on the second page.
        var older = (await api.PostJsonAsync("/v1/api_keys", new { })).Str("id");
        // Ids are ordered by their time: the newer ones a second later.
        Herald.Clock.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < Keys.PageSize; i++)
        {
            var id = (await api.PostJsonAsync("/v1/api_keys", new { })).Str("id");
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await api.DeleteAsync($"/v1/api_keys/{id}")).StatusCode);
        }

        await SignInAsync(key);
        await OpenAsync("/portal/keys");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        var secondPage = Page.Url;
        var ids = Page.Locator("table[aria-label='API keys'] tbody td[data-label='Id'] code");
        await Assertions.Expect(ids).ToHaveCountAsync(2);
        var row = Page.Locator("table[aria-label='API keys'] tbody tr", new() { HasText = older });

        // Nothing is revoked by one click: the button is behind a disclosure saying what revoking does.
        var revoke = row.GetByRole(AriaRole.Button, new() { Name = "Revoke for good " + older, Exact = true });
        await Assertions.Expect(revoke).Not.ToBeVisibleAsync();
        await row.Locator("summary").ClickAsync();
        await ExpectAsync(row.Locator("details"), "It stops at once, for the API and for every portal session signed in with it.");
        await revoke.ClickAsync();

        await ExpectAsync(Page.GetByRole(AriaRole.Status), $"Key {older} revoked.");
        // Still the second page: the same keys, the one revoked among them.
        Assert.Contains(secondPage.Split('?')[1], Page.Url, StringComparison.Ordinal);
        await Assertions.Expect(ids).ToHaveCountAsync(2);
        await ExpectAsync(row.Locator("td[data-label='State']"), "revoked");
        await Assertions.Expect(pager.GetByRole(AriaRole.Link, new() { Name = "Newer" })).ToHaveCountAsync(1);
    }
}
