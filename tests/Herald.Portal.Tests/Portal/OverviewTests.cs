using Herald.Ids;
using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Overview = Herald.Server.Portal.Pages.IndexModel;

namespace Herald.Portal.Tests.Portal;

public sealed class OverviewTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 90_000)]
    public async Task Overview_AfterDeliveries_ChartsAttemptsPerHourAndEachEndpointsSuccessAndLatency()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        for (var i = 0; i < 3; i++)
        {
            await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);
        }
        Receiver.Status = 500;
        await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);

        await SignInAsync(key);

        await ExpectAsync(Page.Locator("#totals"), "4 attempts, 3 succeeded, 1 failed");
        var hour = Page.Locator("#hourly-chart g[data-hour='12']");
        await Assertions.Expect(hour).ToHaveAttributeAsync("data-succeeded", "3");
        await Assertions.Expect(hour).ToHaveAttributeAsync("data-failed", "1");
        await Assertions.Expect(Page.Locator("#hourly-chart g[data-hour]")).ToHaveCountAsync(24);
        // Failed attempts are striped, not only red; each hour's figures are also a table.
        await Assertions.Expect(hour.Locator("rect").Nth(1)).ToHaveAttributeAsync("fill", "url(#hourly-chart-failed-striped)");
        await Page.GetByText("Each hour's figures").ClickAsync();
        var row = Page.GetByRole(AriaRole.Table, new() { Name = "Attempts per hour" }).Locator("tbody tr");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("3");
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("1");
        await ExpectAsync(Page.Locator("#success-chart"), "75 %");
        await Assertions.Expect(Page.Locator("#latency-chart g[data-series='p95']")).ToHaveCountAsync(1);
        await ExpectAsync(Page.GetByRole(AriaRole.Table, new() { Name = "Endpoints over the last 24 hours" }), Receiver.Url);
        await ScreenshotAsync("overview");
    }

    [Fact(Timeout = 90_000)]
    public async Task Overview_OfOneAttempt_SaysAttempt_NotAttempts()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);

        await SignInAsync(key);

        await Assertions.Expect(Page.Locator("#totals")).ToHaveTextAsync("1 attempt, 1 succeeded, 0 failed.");
    }

    [Fact(Timeout = 90_000)]
    public async Task HourlyChart_OfAMaximumOfOne_LabelsEachValueOfItsScaleOnce()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);

        await SignInAsync(key);

        // The scale's labels: 0 at the foot and 1 at the top, not a second 0 drawn over the first.
        var scale = Page.Locator("#hourly-chart > text[text-anchor='end']");
        await Assertions.Expect(scale).ToHaveTextAsync(["0", "1"]);
    }

    [Fact(Timeout = 90_000)]
    public async Task Overview_OfAnEndpointDeletedSinceItsAttempts_ShowsItAsDeleted_NotAsALinkToANotFoundPage()
    {
        var (api, key) = await NewMerchantAsync();
        var (id, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);
        var deleted = await api.DeleteAsync("/v1/endpoints/" + id);
        Assert.True(deleted.IsSuccessStatusCode);

        await SignInAsync(key);

        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Endpoints over the last 24 hours" });
        await Assertions.Expect(table.Locator("tbody tr")).ToHaveCountAsync(1);
        await ExpectAsync(table, id + " (deleted)");
        await Assertions.Expect(table.Locator($"a[href='/portal/endpoints/{id}']")).ToHaveCountAsync(0);
        // In the charts too: its id cut short, the word kept; the whole label in the bar's title.
        await Assertions.Expect(Page.Locator("#success-chart text[clip-path]")).ToHaveTextAsync(id[..10] + "… (deleted)");
        await ExpectAsync(Page.Locator("#success-chart g[data-series] title"), id + " (deleted)");

        // On the narrowest screen the charts' letters stay readable: their boxes scroll sideways, the page does not.
        await Page.SetViewportSizeAsync(320, 640);
        await OpenAsync("/portal");
        var smallest = await Page.EvaluateAsync<double>("() => Math.min(...[...document.querySelectorAll('.chart svg text')].map(t => t.getBoundingClientRect().height).filter(h => h > 0))");
        Assert.True(smallest >= 8, $"a chart's text is {smallest}px high on a 320px screen");
        Assert.True(await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 320);
    }

    [Fact(Timeout = 120_000)]
    public async Task Overview_OfManyEndpointsWithAttempts_ChartsTheBusiestOnly_AndSaysHowManyThereWere()
    {
        var (api, key) = await NewMerchantAsync();
        // Each checkout preference makes an endpoint: a merchant with many preferences has many endpoints with attempts.
        var count = Overview.EndpointsShown + 2;
        var preferences = new List<string>();
        for (var i = 0; i < count; i++)
        {
            preferences.Add((await api.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = $"{Receiver.Url}/preference-{i:00}" } })).Str("id"));
        }
        foreach (var preference in preferences.Append(preferences[^1]))
        {
            await api.PostJsonAsync("/v1/payment_orders", new { preference_id = preference, amount = 10, currency = "ARS" });
        }
        await Receiver.WaitForAsync(count + 1);

        await SignInAsync(key);
        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Endpoints over the last 24 hours" });
        await Assertions.Expect(table.Locator("tbody tr")).ToHaveCountAsync(Overview.EndpointsShown);
        // The busiest first: the one with two attempts.
        await ExpectAsync(table.Locator("tbody tr").First, $"preference-{count - 1:00}");
        await ExpectAsync(Page.Locator("#endpoints-shown"), $"of the {count} that had attempts");
        await Assertions.Expect(Page.Locator("#success-chart text[clip-path]")).ToHaveCountAsync(Overview.EndpointsShown);
    }

    [Fact(Timeout = 120_000)]
    public async Task SuccessRate_WithOneFailureAmongThousands_IsNeverShownAsAHundredPercent_NorOneSuccessAsZero()
    {
        var (api, key) = await NewMerchantAsync();
        var (mostly, _) = await api.AddEndpointAsync(Receiver.Url + "/mostly", "transaction");
        Receiver.Status = 500;
        var first = await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);
        var (seldom, _) = await api.AddEndpointAsync(Receiver.Url + "/seldom", "transaction");
        Receiver.Status = 200;
        var second = await api.NewTransactionAsync();
        var ofSeldom = (await api.NotificationsAsync($"entity_id={second}&endpoint_id={seldom}")).Single()!.Str("id");
        await HeraldHost.EventuallyAsync(async () => (await api.NotificationAsync(ofSeldom))["attempt_count"]!.GetValue<int>() == 1);
        // 2,000 more attempts each: 2,000 of 2,001 succeeded (99.95 %, which one decimal rounds to 100)
        // for the one, 1 of 2,001 (0.05 %, rounded to 0) for the other.
        var store = Herald.Services.GetRequiredService<IHeraldStore>();
        for (var i = 0; i < 2000; i++)
        {
            await store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Herald.Clock), first.Str("id"), i + 2, AttemptTriggers.Manual,
                Herald.Clock.GetUtcNow(), 1, 200, true, null, null));
            await store.RecordManualAttemptAsync(new Attempt(HeraldId.New(HeraldId.Attempt, Herald.Clock), ofSeldom, i + 2, AttemptTriggers.Manual,
                Herald.Clock.GetUtcNow(), 1, 500, false, "HTTP 500", null));
        }

        await SignInAsync(key);
        var table = Page.GetByRole(AriaRole.Table, new() { Name = "Endpoints over the last 24 hours" });
        await ExpectAsync(table.Locator("tr", new() { Has = Page.Locator($"a[href='/portal/endpoints/{mostly}']") }), "99.9 %");
        await ExpectAsync(table.Locator("tr", new() { Has = Page.Locator($"a[href='/portal/endpoints/{seldom}']") }), "0.1 %");
        await Assertions.Expect(Page.Locator("#success-chart text", new() { HasText = "100 %" })).ToHaveCountAsync(0);
        await Assertions.Expect(Page.Locator("#success-chart text", new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^0 %$") })).ToHaveCountAsync(0);
        await ExpectAsync(Page.Locator("#success-chart"), "99.9 %");
    }

    [Fact(Timeout = 120_000)]
    public async Task AtTheNarrowestWidth_NoPageScrollsSideways_AndFocusIsDarkOnTheLightPage()
    {
        var (api, key) = await NewMerchantAsync();
        var (endpoint, _) = await api.AddEndpointAsync(Receiver.Url, "transaction");
        var id = await api.NewTransactionAsync();
        await api.MoveAsync("transactions", id, "PROCESSING");
        await api.MoveAsync("transactions", id, "COMPLETED");
        var completed = await api.WaitForAttemptsAsync(id, "TRANSACTION.COMPLETED", 1);
        await SignInAsync(key);
        // WCAG's reflow width: 320 CSS pixels, as a 1280 px screen at 400 % zoom.
        await Page.SetViewportSizeAsync(320, 640);

        foreach (var path in new[] { $"/portal/notifications/{completed.Str("id")}", "/portal/preferences", "/portal/endpoints/new", $"/portal/endpoints/{endpoint}", "/portal/point", "/portal/keys", "/portal" })
        {
            await OpenAsync(path);
            var width = await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
            Assert.True(width <= 320, $"{path} is {width}px wide on a 320px screen");
        }

        // The focus ring is dark on the light page and yellow on the dark header: visible against either.
        await OpenAsync("/portal/keys");
        await Page.Keyboard.PressAsync("Tab");
        await ExpectAsync(Page.Locator(":focus"), "Skip to content");
        // The skip link shows over the dark header, as the header's own links do.
        Assert.Equal("rgb(255, 191, 71)", await Page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineColor"));
        await Page.Keyboard.PressAsync("Enter");
        await Page.Keyboard.PressAsync("Tab");
        // The page's first control: the new key's scope.
        await Assertions.Expect(Page.Locator("#key-scope")).ToBeFocusedAsync();
        Assert.Equal("rgb(29, 35, 48)", await Page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineColor"));
    }

    [Fact(Timeout = 60_000)]
    public async Task UnderSevenHundredTwentyPixels_ACellHoldingSeveralPieces_KeepsThemAllBesideItsLabel()
    {
        var (api, key) = await NewMerchantAsync();
        var (endpoint, _) = await api.AddEndpointAsync(Receiver.Url, "thin");
        await api.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        await SignInAsync(key);
        await Page.SetViewportSizeAsync(375, 700);

        // Keys: "this session's key" beside the id; endpoints: the reason beside the state's badge.
        foreach (var path in new[] { "/portal/keys", "/portal/endpoints" })
        {
            await OpenAsync(path);
            // Every piece a cell shows starts right of its label, in the cell's value column.
            var spilled = await Page.EvaluateAsync<string[]>("""
                () => [...document.querySelectorAll('table.responsive td[data-label]')].flatMap(td => {
                  const box = td.getBoundingClientRect();
                  const value = box.left + box.width * 0.4 - 1;
                  return [...td.children].filter(c => c.getBoundingClientRect().width > 0 && c.getBoundingClientRect().left < value)
                    .map(c => td.dataset.label + ': ' + c.textContent.trim());
                })
                """);
            Assert.True(spilled.Length == 0, $"{path}: under their label: {string.Join("; ", spilled)}");
        }
        await ExpectAsync(Page.Locator($"tr[data-endpoint='{endpoint}'] .hint"), "by the merchant");

        // An endpoint's facts, one under another: each value as wide as the page, not a column beside its name.
        await OpenAsync($"/portal/endpoints/{endpoint}");
        var widths = await Page.EvaluateAsync<double[]>(
            "() => [document.querySelector('dl.facts dd').getBoundingClientRect().width, document.querySelector('main').getBoundingClientRect().width]");
        var (fact, page) = (widths[0], widths[1]);
        Assert.True(fact > page * 0.7, $"a fact's value is {fact}px wide on a {page}px page");
    }

    [Fact(Timeout = 60_000)]
    public async Task ANotificationOfAnEndpointWithALongHeaderName_DoesNotScrollSideways_AtTheNarrowestWidth()
    {
        var (api, key) = await NewMerchantAsync();
        // A header name as long as an endpoint's may be (64 characters), with nowhere to break it.
        var name = "X-Acme-Gateway-Correlation-" + new string('a', 37);
        await api.AddEndpointAsync(Receiver.Url, "transaction", new { headers = new Dictionary<string, string> { [name] = "1" } });
        var id = await api.NewTransactionAsync();
        var notification = await api.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        await SignInAsync(key);
        await Page.SetViewportSizeAsync(320, 640);

        await OpenAsync($"/portal/notifications/{notification.Str("id")}");
        await ExpectAsync(Page.GetByRole(AriaRole.Table, new() { Name = "Headers sent with every attempt" }), name.ToLowerInvariant());
        var width = await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(width <= 320, $"the notification's page is {width}px wide on a 320px screen");
    }

    [Fact(Timeout = 60_000)]
    public async Task Portal_AtPhoneWidth_KeepsEveryPageReachable()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        await api.WaitForAttemptsAsync(await api.NewTransactionAsync(), "TRANSACTION.INIT", 1);
        await Page.SetViewportSizeAsync(390, 844);

        await SignInAsync(key);
        await Page.GetByRole(AriaRole.Link, new() { Name = "Notifications" }).ClickAsync();

        var scrollWidth = await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 400, $"the notifications page is {scrollWidth}px wide on a 390px screen");
        await Assertions.Expect(Page.Locator("table tbody tr td[data-label='Status']").First).ToBeVisibleAsync();
        await ScreenshotAsync("notifications-phone");
        await Page.Keyboard.PressAsync("Tab");
        await ExpectAsync(Page.Locator(":focus"), "Skip to content");
    }
}
