using System.Collections.Concurrent;
using Herald.Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.OpenApi;

/// <summary>The API reference at /docs, in a browser that can reach Herald and nothing else.</summary>
public sealed class ApiReferencePageTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 60_000)]
    public async Task Docs_RendersHeraldsOperations_AndATriedRequest_ReachingNoHostButHerald()
    {
        var elsewhere = new ConcurrentBag<string>();
        var herald = new Uri(BaseUrl).Authority;
        await Page.RouteAsync("**/*", async route =>
        {
            if (new Uri(route.Request.Url).Authority == herald)
            {
                await route.ContinueAsync();
                return;
            }
            elsewhere.Add(route.Request.Url);
            await route.AbortAsync();
        });

        // The page's policy allows its own inline script by hash: nothing it runs is refused.
        var refused = new ConcurrentBag<string>();
        Page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add(message.Text);
            }
        };
        await OpenAsync("/docs");

        await ExpectAsync(Page.Locator("body"), "Herald API");
        // The document's operations, shown with their ids: the page read /openapi/v1.json.
        await Page.GetByText("Endpoints", new() { Exact = true }).First.ClickAsync();
        await Assertions.Expect(Page.GetByText("createEndpoint", new() { Exact = true }).First).ToBeVisibleAsync();

        // A request tried from the page goes to Herald itself, not through a proxy elsewhere.
        var sent = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Page.Response += (_, response) =>
        {
            if (response.Url.EndsWith("/healthz", StringComparison.Ordinal))
            {
                sent.TrySetResult(response.Url);
            }
        };
        await OpenAsync("/docs");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Test Request" }).First.ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send" }).First.ClickAsync();
        Assert.Equal(BaseUrl + "/healthz", await sent.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Empty(elsewhere);
        Assert.Empty(refused);
    }
}
