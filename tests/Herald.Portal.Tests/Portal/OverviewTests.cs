using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

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
        await ExpectAsync(Page.Locator("#success-chart"), "75 %");
        await Assertions.Expect(Page.Locator("#latency-chart g[data-series='p95']")).ToHaveCountAsync(1);
        await ExpectAsync(Page.GetByRole(AriaRole.Table, new() { Name = "Endpoints over the last 24 hours" }), Receiver.Url);
        await ScreenshotAsync("overview");
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
