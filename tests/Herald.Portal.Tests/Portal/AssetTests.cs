using System.Security.Cryptography;
using Herald.Portal.Tests.Infrastructure;

namespace Herald.Portal.Tests.Portal;

public sealed class AssetTests(Browser browser) : PortalTest(browser)
{
    [Fact(Timeout = 60_000)]
    public async Task Assets_AreLoadedFromAddressesNamedByTheirContent_KeptForGood_WhileAnUnnamedOneIsCheckedAgain()
    {
        await OpenAsync("/portal/signin");
        var css = await Page.Locator("link[rel=stylesheet]").GetAttributeAsync("href");
        var js = await Page.Locator("script[src]").GetAttributeAsync("src");

        foreach (var (url, name) in new[] { (css, "portal.css"), (js, "portal.js") })
        {
            Assert.Matches($@"^/portal/assets/{name}\?v=[0-9a-f]{{12}}$", url);
            using var answer = await Herald.Client.GetAsync(url);
            // Another stylesheet or script, in another Herald, is another address.
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await answer.Content.ReadAsByteArrayAsync()))[..12], url!.Split("?v=")[1]);
            Assert.Equal(TimeSpan.FromDays(365), answer.Headers.CacheControl!.MaxAge);
        }
        // A page of an older Herald asks without the version (or with its own): checked again each time.
        using var unnamed = await Herald.Client.GetAsync("/portal/assets/portal.css");
        Assert.True(unnamed.Headers.CacheControl!.NoCache);
        Assert.Null(unnamed.Headers.CacheControl.MaxAge);
    }
}
