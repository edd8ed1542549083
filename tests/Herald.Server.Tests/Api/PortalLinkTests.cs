using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Api;

/// <summary>
/// One-time portal sign-in links the operator makes for a merchant: opening one signs in nobody
/// (mail and chat scanners fetch links), its Sign in button does, once.
/// </summary>
public sealed partial class PortalLinkTests
{
    [Fact]
    public async Task TheAdminMakesALink_AtTheAddressTheRequestCameIn_KeptOnlyHashed_ExpiringWhenAsked()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var id = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" })).Str("id");

        using var made = await admin.PostAsync($"/v1/merchants/{id}/portal_links", null);
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        var link = await made.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(["url", "expires_at"], link!.Select(p => p.Key));
        Assert.Equal("2026-11-02T12:05:00.000Z", link.Str("expires_at"));
        var token = TokenOf(herald, link.Str("url"));
        Assert.Matches("^[A-Za-z0-9_-]{43,}$", token);
        // The database holds the token's hash alone.
        var stored = Assert.Single(await herald.ReadDatabaseAsync("SELECT token_hash FROM portal_links"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), stored);

        var longer = await admin.PostJsonAsync($"/v1/merchants/{id}/portal_links", new { expires_in_seconds = 86400 });
        Assert.Equal("2026-11-03T12:00:00.000Z", longer.Str("expires_at"));
        Assert.NotEqual(token, TokenOf(herald, longer.Str("url")));
    }

    [Fact]
    public async Task BehindATrustedProxy_TheLinkIsAtTheAddressTheProxyWasReachedAt()
    {
        await using var herald = await HeraldHost.StartAsync(tune: o => o.TrustedProxies.Add("127.0.0.1"));
        using var admin = herald.As(HeraldHost.AdminKey);
        var id = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" })).Str("id");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/merchants/{id}/portal_links");
        request.Headers.Add("X-Forwarded-Proto", "https");

        var link = await (await admin.SendAsync(request)).Content.ReadFromJsonAsync<JsonObject>();

        Assert.StartsWith($"https://{herald.Client.BaseAddress!.Authority}/portal/link/", link.Str("url"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAPublicAddressGiven_TheLinkIsAtIt_WhateverAddressTheAdminCameInAt_AndOpensThere()
    {
        // Behind a proxy that serves Herald under a path of its own, the admin calling the node directly.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.PublicUrl = "https://hooks.example.com/herald/");
        using var admin = herald.As(HeraldHost.AdminKey);
        var id = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" })).Str("id");

        using var made = await admin.PostAsync($"/v1/merchants/{id}/portal_links", null);
        var url = (await made.Content.ReadFromJsonAsync<JsonObject>()).Str("url");

        const string At = "https://hooks.example.com/herald/portal/link/";
        Assert.StartsWith(At, url, StringComparison.Ordinal);
        // The path the proxy passes on (its prefix taken off) is the link's page on the node.
        Assert.Equal("/portal/link/" + url[At.Length..], made.Headers.Location!.OriginalString);
        using var page = await herald.Client.GetAsync(made.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Sign in", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyTheAdminMakesLinks_ABadExpiryOrAnUnknownMerchantIsRefused_AndMakesNone()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" });
        var id = created.Str("id");
        using var merchant = herald.As(created.Str("api_key"));

        await ApiErrors.ExpectErrorAsync(await merchant.PostAsync($"/v1/merchants/{id}/portal_links", null), 403, "this route needs the admin key");
        await ApiErrors.ExpectErrorAsync(await herald.Client.PostAsync($"/v1/merchants/{id}/portal_links", null), 401, "");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsJsonAsync($"/v1/merchants/{id}/portal_links", new { expires_in_seconds = 29 }), 400,
            "expires_in_seconds must be between 30 and 86400");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsJsonAsync($"/v1/merchants/{id}/portal_links", new { expires_in_seconds = 86401 }), 400,
            "expires_in_seconds must be between 30 and 86400");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsJsonAsync($"/v1/merchants/{id}/portal_links", new { expires_in_seconds = "soon" }), 400, "expires_in_seconds");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsJsonAsync($"/v1/merchants/{id}/portal_links", new { expires = 60 }), 400, "expires");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsync("/v1/merchants/mer_missing/portal_links", null), 404, "merchant mer_missing not found");
        await ApiErrors.ExpectErrorAsync(await admin.PostAsync("/v1/merchants/mer_operator/portal_links", null), 404, "merchant mer_operator not found");

        Assert.Empty(await herald.ReadDatabaseAsync("SELECT token_hash FROM portal_links"));
    }

    [Fact]
    public async Task OpeningALink_SignsInNobody_ItsSignInButtonSignsInOnce_AndTheLinkIsThenNoLongerValid()
    {
        var logs = new CapturedLogs("");
        await using var herald = await HeraldHost.StartAsync(configure: b => b.Logging.AddProvider(logs));
        var (id, url) = await NewLinkAsync(herald, "Acme Books");
        using var scanner = Browser(herald);
        using var browser = Browser(herald);

        // A scanner fetching the link (twice) uses nothing up.
        var loggedBefore = logs.Entries.Count;
        for (var i = 0; i < 2; i++)
        {
            using var opened = await scanner.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
            Assert.Contains("Sign in to Acme Books's Herald portal", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("same-origin", opened.Headers.GetValues("Referrer-Policy").Single());
            Assert.Contains("no-store", opened.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        }
        // Opening a link is ordinary use: it logs no warning (its page's caching said as its form's antiforgery says it).
        Assert.DoesNotContain(logs.Entries.Skip(loggedBefore), e => e.Level >= LogLevel.Warning);
        Assert.Equal(HttpStatusCode.Redirect, (await scanner.GetAsync("/portal")).StatusCode);

        using var signedIn = await SignInThroughAsync(browser, url);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/portal", signedIn.Headers.Location!.OriginalString);
        using (var overview = await browser.GetAsync("/portal"))
        {
            Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
            Assert.Contains("Acme Books", await overview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Used once, the link signs in no one again, however it is asked.
        using (var again = await scanner.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
            Assert.Contains("This sign-in link is no longer valid", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var late = await PostLinkAsync(scanner, url, await TokenFromAsync(scanner, "/portal/signin"));
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.DoesNotContain(late.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("herald_portal=", StringComparison.Ordinal));

        // A link session does not depend on a key: revoking every key of the merchant leaves it standing; signing out ends it.
        using var admin = herald.As(HeraldHost.AdminKey);
        foreach (var key in (await admin.GetJsonAsync($"/v1/merchants/{id}/api_keys"))["data"]!.AsArray())
        {
            await admin.DeleteAsync($"/v1/merchants/{id}/api_keys/{key.Str("id")}");
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/portal/endpoints")).StatusCode);
        var signOutToken = await TokenFromAsync(browser, "/portal/endpoints");
        using var signOut = await browser.PostAsync("/portal/signout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = signOutToken }));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/portal/endpoints")).StatusCode);

        var token = url[(url.LastIndexOf('/') + 1)..];
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnExpiredLink_IsNoLongerValid_OpenedOrPosted_AndSignsInNobody()
    {
        await using var herald = await HeraldHost.StartAsync();
        var (_, url) = await NewLinkAsync(herald, "Acme", new { expires_in_seconds = 60 });
        using var browser = Browser(herald);
        var form = await TokenFromAsync(browser, url);

        herald.Clock.Advance(TimeSpan.FromSeconds(60));

        using var opened = await browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.Gone, opened.StatusCode);
        Assert.Contains("Ask for a new one", await opened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var posted = await PostLinkAsync(browser, url, form);
        Assert.Equal(HttpStatusCode.Gone, posted.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/portal")).StatusCode);
    }

    [Fact]
    public async Task UnknownLinks_AreNoLongerValid_AndCountAgainstTheAddresssBudgetOfUnknownKeys()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var browser = Browser(herald);
        var statuses = new List<HttpStatusCode>();
        // As fast as a script would ask.
        for (var i = 0; i < 60 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
        {
            statuses.Add((await browser.GetAsync("/portal/link/guess" + i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(38, '0'))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Gone, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Gone or HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task ALinkOpenedWhileTheDatabaseIsAway_IsLoggedWithoutItsToken()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var logs = new CapturedLogs("Herald.Server.Errors");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, configure: b => b.Logging.AddProvider(logs));
        var (_, url) = await NewLinkAsync(herald, "Acme");
        using var browser = Browser(herald);

        await db.SetReachableAsync(false);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await browser.GetAsync(url)).StatusCode);

        var logged = Assert.Single(logs.Entries);
        Assert.StartsWith("GET /portal/link/… answered 503", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndingAMerchantsPortalSessions_RefusesItsKeyAndLinkSessions_VoidsItsUnusedLinks_AndLaterSignInsWork()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" });
        var id = created.Str("id");
        var key = created.Str("api_key");
        var otherUrl = (await NewLinkAsync(herald, "Other")).Url;
        using var byKey = Browser(herald);
        using var byLink = Browser(herald);
        using var other = Browser(herald);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(byKey, key)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInThroughAsync(byLink, (await admin.PostJsonAsync($"/v1/merchants/{id}/portal_links", new { })).Str("url"))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInThroughAsync(other, otherUrl)).StatusCode);
        var unused = (await admin.PostJsonAsync($"/v1/merchants/{id}/portal_links", new { })).Str("url");
        Assert.Equal(HttpStatusCode.OK, (await byKey.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await byLink.GetAsync("/portal/endpoints")).StatusCode);

        // Only the admin ends them, for a merchant there is.
        using var merchant = herald.As(key);
        await ApiErrors.ExpectErrorAsync(await merchant.DeleteAsync($"/v1/merchants/{id}/portal_sessions"), 403, "this route needs the admin key");
        await ApiErrors.ExpectErrorAsync(await herald.Client.DeleteAsync($"/v1/merchants/{id}/portal_sessions"), 401, "");
        await ApiErrors.ExpectErrorAsync(await admin.DeleteAsync("/v1/merchants/mer_missing/portal_sessions"), 404, "merchant mer_missing not found");
        await ApiErrors.ExpectErrorAsync(await admin.DeleteAsync("/v1/merchants/mer_operator/portal_sessions"), 404, "merchant mer_operator not found");
        Assert.Equal(HttpStatusCode.OK, (await byKey.GetAsync("/portal/endpoints")).StatusCode);

        herald.Clock.Advance(TimeSpan.FromMinutes(1));
        using var ended = await admin.DeleteAsync($"/v1/merchants/{id}/portal_sessions");
        Assert.Equal(HttpStatusCode.NoContent, ended.StatusCode);

        // Both sessions of the merchant are refused, another merchant's stands, and the unused link signs in no one.
        Assert.Equal(HttpStatusCode.Redirect, (await byKey.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await byLink.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await byLink.GetAsync(unused)).StatusCode);

        // Signed in afterwards, by the same key or a new link, sessions work.
        herald.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(byKey, key)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await byKey.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInThroughAsync(byLink, (await admin.PostJsonAsync($"/v1/merchants/{id}/portal_links", new { })).Str("url"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await byLink.GetAsync("/portal/endpoints")).StatusCode);
    }

    [Fact]
    public async Task SigningInAgainInTheSameBrowser_EndsItsEarlierSession_SoACopyOfItsCookieIsRefused()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var acme = await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" });
        var (_, otherUrl) = await NewLinkAsync(herald, "Other");
        var cookies = new CookieContainer();
        using var browser = Browser(herald, cookies);

        // Signed in with Acme's key; a copy of the session's cookie is taken (a shared machine, say).
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(browser, acme.Str("api_key"))).StatusCode);
        using var copy = WithSessionOf(herald, cookies);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/portal/endpoints")).StatusCode);

        // The browser then signs in through another merchant's link: the copy of Acme's session is refused.
        Assert.Equal(HttpStatusCode.Redirect, (await SignInThroughAsync(browser, otherUrl)).StatusCode);
        using (var overview = await browser.GetAsync("/portal"))
        {
            Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
            Assert.Contains("Other", await overview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var refused = await copy.GetAsync("/portal/endpoints"))
        {
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/portal/signin", new Uri(herald.Client.BaseAddress!, refused.Headers.Location!).AbsolutePath);
        }

        // So too the link's session, once the browser signs in with a key again; the new session works.
        using var linkCopy = WithSessionOf(herald, cookies);
        Assert.Equal(HttpStatusCode.OK, (await linkCopy.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(browser, acme.Str("api_key"))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await linkCopy.GetAsync("/portal/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/portal/endpoints")).StatusCode);
    }

    [Fact]
    public async Task AKeyShownOnce_IsShownOnlyInTheSessionThatMadeIt_NotToACopyOfItsCookieInAnotherSessionOfTheMerchant()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var acme = await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" });
        using var merchant = herald.As(acme.Str("api_key"));
        var otherKey = (await merchant.PostJsonAsync("/v1/api_keys", new { })).Str("api_key");
        var cookies = new CookieContainer();
        using var browser = Browser(herald, cookies);
        var otherCookies = new CookieContainer();
        using var other = Browser(herald, otherCookies);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(browser, acme.Str("api_key"))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInWithKeyAsync(other, otherKey)).StatusCode);

        // A new key is made in one session; before its page is read, a copy of the cookie carrying it reaches the other session.
        using var made = await browser.PostAsync("/portal/keys?handler=Create", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["scope"] = "full", ["__RequestVerificationToken"] = await TokenFromAsync(browser, "/portal/keys"),
        }));
        Assert.Equal(HttpStatusCode.Redirect, made.StatusCode);
        CopyCookie(herald, "herald_portal_once", cookies, otherCookies);

        var page = made.Headers.Location!.OriginalString;
        Assert.DoesNotContain("id=\"key-value\"", await (await other.GetAsync(page)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("id=\"key-value\"", await (await browser.GetAsync(page)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A browser of its own holding a copy of the portal session cookie <paramref name="cookies"/> hold now.</summary>
    private static HttpClient WithSessionOf(HeraldHost herald, CookieContainer cookies)
    {
        var copied = new CookieContainer();
        CopyCookie(herald, "herald_portal", cookies, copied);
        return Browser(herald, copied);
    }

    /// <summary>Copies the portal's cookie <paramref name="name"/> as <paramref name="from"/> holds it now into <paramref name="to"/>.</summary>
    private static void CopyCookie(HeraldHost herald, string name, CookieContainer from, CookieContainer to)
    {
        var portal = new Uri(herald.Client.BaseAddress!, "/portal/");
        var cookie = from.GetCookies(portal).Single(c => c.Name == name);
        to.Add(portal, new Cookie(cookie.Name, cookie.Value, cookie.Path));
    }

    private static async Task<(string Id, string Url)> NewLinkAsync(HeraldHost herald, string name, object? body = null)
    {
        using var admin = herald.As(HeraldHost.AdminKey);
        var id = (await admin.PostJsonAsync("/v1/merchants", new { name })).Str("id");
        var link = await admin.PostJsonAsync($"/v1/merchants/{id}/portal_links", body ?? new { });
        return (id, link.Str("url"));
    }

    private static string TokenOf(HeraldHost herald, string url)
    {
        var prefix = herald.Client.BaseAddress!.ToString().TrimEnd('/') + "/portal/link/";
        Assert.StartsWith(prefix, url, StringComparison.Ordinal);
        return url[prefix.Length..];
    }

    /// <summary>A browser of its own: its cookies, no redirect followed.</summary>
    private static HttpClient Browser(HeraldHost herald, CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = cookies ?? new CookieContainer() }) { BaseAddress = herald.Client.BaseAddress };

    private static async Task<string> TokenFromAsync(HttpClient browser, string page)
    {
        var html = await (await browser.GetAsync(page)).Content.ReadAsStringAsync();
        return AntiforgeryField().Match(html).Groups[1].Value;
    }

    private static Task<HttpResponseMessage> PostLinkAsync(HttpClient browser, string url, string antiforgery) =>
        browser.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = antiforgery }));

    private static async Task<HttpResponseMessage> SignInThroughAsync(HttpClient browser, string url) =>
        await PostLinkAsync(browser, url, await TokenFromAsync(browser, url));

    private static async Task<HttpResponseMessage> SignInWithKeyAsync(HttpClient browser, string key) =>
        await browser.PostAsync("/portal/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key, ["__RequestVerificationToken"] = await TokenFromAsync(browser, "/portal/signin"),
        }));

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
