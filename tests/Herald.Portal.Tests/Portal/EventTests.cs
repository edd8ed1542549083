using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

public sealed class EventTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 90_000)]
    public async Task Events_ListEveryChangeNewestFirst_PageBothWays_AndFilterByEntity()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        var transactions = new List<string>();
        for (var i = 0; i < 26; i++)
        {
            transactions.Add(await api.NewTransactionAsync());
        }
        var moved = transactions[0];
        // A second later, so the move is the newest event whatever order the creations took.
        Herald.Clock.Advance(TimeSpan.FromSeconds(1));
        await api.MoveAsync("transactions", moved, "COMPLETED");

        await SignInAsync(key);
        await OpenAsync("/portal");
        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Portal" }).GetByRole(AriaRole.Link, new() { Name = "Events" }).ClickAsync();
        var rows = Page.Locator("table[aria-label^='Events'] tbody tr");
        var entities = Page.Locator("table[aria-label^='Events'] tbody td[data-label='Entity'] code");
        var pager = Page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        // 27 changes: the newest is the move, 25 a page.
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        await ExpectAsync(rows.First, "INIT → COMPLETED");
        await Assertions.Expect(entities.First).ToHaveTextAsync(moved);
        var newest = await entities.AllInnerTextsAsync();

        await pager.GetByRole(AriaRole.Link, new() { Name = "Older" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        var oldest = await entities.AllInnerTextsAsync();
        Assert.Equal(transactions.Append(moved).Order(), newest.Concat(oldest).Order());
        await pager.GetByRole(AriaRole.Link, new() { Name = "Newer" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        Assert.Equal(newest, await entities.AllInnerTextsAsync());

        // One entity's events, from its link: both of its changes, the latest first.
        await entities.First.ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await ExpectAsync(rows.Nth(0), "INIT → COMPLETED");
        await ExpectAsync(rows.Nth(1), "INIT");
        await Assertions.Expect(Page.GetByLabel("Entity id")).ToHaveValueAsync(moved);
        await Assertions.Expect(pager.GetByRole(AriaRole.Link)).ToHaveCountAsync(0);
        await ScreenshotAsync("events");

        // And from there to the notifications it made.
        await rows.First.GetByRole(AriaRole.Link, new() { Name = "of this entity" }).ClickAsync();
        await Assertions.Expect(Page.Locator("table[aria-label^='Notifications'] tbody tr")).ToHaveCountAsync(2);

        await OpenAsync("/portal/events?entity=no-such-entity");
        await ExpectAsync(Page.Locator("main"), "No events match.");
    }

    [Fact(Timeout = 60_000)]
    public async Task EventTypesPage_NamesEachFormatAsTheApiDoes_InWordsForMerchants()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/event-types");

        foreach (var format in new[] { "transaction", "point", "thin" })
        {
            var section = Page.Locator($"section[aria-labelledby='format-{format}']");
            await Assertions.Expect(section.GetByRole(AriaRole.Heading, new() { Level = 2 })).ToHaveTextAsync(format);
            await Assertions.Expect(section.Locator("p.hint")).Not.ToContainTextAsync("seed");
        }
        await Assertions.Expect(Page.Locator("main")).Not.ToContainTextAsync("seed");
    }
}
