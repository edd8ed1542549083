using Herald.Portal.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Portal;

/// <summary>The portal in a browser that runs no script: every action is a plain form or link.</summary>
public sealed class NoScriptTests(Browser browser) : PortalTest(browser)
{
    protected override bool JavaScriptEnabled => false;

    [Fact(Timeout = 60_000)]
    public async Task AddEndpoint_WithoutScripts_ShowsItsSecretSelectable_AndNoCopyButtonThatCannotWork()
    {
        var (_, key) = await NewMerchantAsync();
        await SignInAsync(key);
        await OpenAsync("/portal/endpoints/new");
        await Page.GetByLabel("URL").FillAsync(Receiver.Url);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();

        Assert.StartsWith("whsec_", await Page.Locator("#secret-value").InnerTextAsync(), StringComparison.Ordinal);
        await Assertions.Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Copy" })).ToBeHiddenAsync();
    }

    [Fact(Timeout = 60_000)]
    public async Task Resend_WithoutScripts_PostsTheFormAndShowsTheNewAttempt()
    {
        var (api, key) = await NewMerchantAsync();
        await api.AddEndpointAsync(Receiver.Url, "transaction");
        Receiver.Status = 500;
        var transaction = await api.NewTransactionAsync();
        var notification = await api.WaitForAttemptsAsync(transaction, "TRANSACTION.INIT", 1);
        Receiver.Status = 200;

        await SignInAsync(key);
        await OpenAsync("/portal/notifications/" + notification.Str("id"));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Resend now" }).ClickAsync();

        var second = Page.Locator("#attempts tr[data-attempt='2']");
        await ExpectAsync(second, "manual");
        await ExpectAsync(second, "succeeded");
        // The page after the form is the notification's own: a reload sends nothing again.
        Assert.Equal(BaseUrl + "/portal/notifications/" + notification.Str("id"), Page.Url);
        await Page.ReloadAsync();
        Assert.Equal(2, Receiver.Received.Count);
    }
}
