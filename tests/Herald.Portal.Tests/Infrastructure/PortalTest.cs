using System.Text.RegularExpressions;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Herald.Portal.Tests.Infrastructure;

/// <summary>
/// A fresh Herald (real Kestrel on loopback, real SQLite), a receiver whose answer the test changes,
/// and a browser tab of its own, for each test.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class PortalTest(Browser browser) : IAsyncLifetime
{
    /// <summary>What any one browser step may take before the test fails.</summary>
    private const float StepTimeoutMs = 15_000;

    private IBrowserContext _context = null!;

    protected HeraldHost Herald { get; private set; } = null!;

    protected TestReceiver Receiver { get; private set; } = null!;

    protected IPage Page { get; private set; } = null!;

    protected string BaseUrl => Herald.Client.BaseAddress!.ToString().TrimEnd('/');

    /// <summary>Whether the tab runs the portal's script; a test of the pages without it says false.</summary>
    protected virtual bool JavaScriptEnabled => true;

    public async Task InitializeAsync()
    {
        Herald = await HeraldHost.StartAsync();
        Receiver = await TestReceiver.StartAsync();
        _context = await browser.Instance.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, JavaScriptEnabled = JavaScriptEnabled });
        _context.SetDefaultTimeout(StepTimeoutMs);
        Page = await _context.NewPageAsync();
        Assertions.SetDefaultExpectTimeout(StepTimeoutMs);
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        await Herald.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>A new merchant: its API client and its key.</summary>
    protected async Task<(HttpClient Api, string Key)> NewMerchantAsync(string name = "Acme")
    {
        var api = await Herald.NewMerchantAsync(name);
        return (api, api.DefaultRequestHeaders.Authorization!.Parameter!);
    }

    protected async Task SignInAsync(string key)
    {
        await Page.GotoAsync(BaseUrl + "/portal/signin");
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    protected async Task<IResponse> OpenAsync(string path) =>
        (await Page.GotoAsync(BaseUrl + path))!;

    protected static Task ExpectAsync(ILocator locator, string text) =>
        Assertions.Expect(locator).ToContainTextAsync(text);

    protected static Regex Exactly(string text) => new("^" + Regex.Escape(text) + "$");

    /// <summary>
    /// Renders what the page shows now as an image; with <c>HERALD_PORTAL_SCREENSHOTS=1</c> it is
    /// saved as docs/portal/{name}.png for the documentation (otherwise a test run leaves the
    /// documentation as it was).
    /// </summary>
    protected async Task ScreenshotAsync(string name)
    {
        var save = Environment.GetEnvironmentVariable("HERALD_PORTAL_SCREENSHOTS") == "1";
        var image = await Page.ScreenshotAsync(new PageScreenshotOptions { Path = save ? Path.Combine(DocsDirectory(), name + ".png") : null, FullPage = true });
        Assert.NotEmpty(image);
    }

    private static string DocsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                var docs = Path.Combine(dir.FullName, "docs", "portal");
                Directory.CreateDirectory(docs);
                return docs;
            }
        }
        throw new InvalidOperationException("the repository root (Herald.slnx) was not found above the test binaries");
    }
}
