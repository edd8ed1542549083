using System.Net;
using System.Text.RegularExpressions;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.OpenApi;

/// <summary>
/// The API reference at /docs is Herald's own page, open without a key, and everything it loads is
/// served by Herald: it works where no host but Herald's can be reached.
/// </summary>
public sealed partial class ApiReferenceTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;

    public async Task InitializeAsync() => _herald = await HeraldHost.StartAsync();

    public async Task DisposeAsync() => await _herald.DisposeAsync();

    [Fact]
    public async Task Docs_WithoutAKey_AnswersTheReferencePage_ReadingHeraldsOwnDocument()
    {
        var response = await _herald.Client.GetAsync("/docs");

        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Herald API</title>", page, StringComparison.Ordinal);
        // Said to be English, for screen readers and translators (the package's page says no language).
        Assert.Contains("<html lang=\"en\"", page, StringComparison.Ordinal);
        if (response.Content.Headers.ContentLength is { } length)
        {
            Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(page), length);
        }
        Assert.Contains("\"url\":\"openapi/v1.json\"", page, StringComparison.Ordinal);
        // No address of another host, and not the fonts Scalar would fetch from its CDN.
        Assert.DoesNotContain("://", page, StringComparison.Ordinal);
        Assert.Contains("\"withDefaultFonts\":false", page, StringComparison.Ordinal);
        // The browser holds the page to Herald: nothing loaded from, nor sent to, anywhere else.
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _herald.Client.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Docs_RunsItsOwnInlineScriptAlone_ByItsHash()
    {
        // The page shares the portal's origin: a script injected into it would act with the
        // portal's session, so no inline script runs but the one the page was served with.
        var response = await _herald.Client.GetAsync("/docs");
        var page = await response.Content.ReadAsStringAsync();
        var inline = Assert.Single(InlineScript().Matches(page)).Groups["body"].Value;
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(inline)));

        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        var scripts = policy.Split(';', StringSplitOptions.TrimEntries).Single(d => d.StartsWith("script-src ", StringComparison.Ordinal));
        Assert.Equal($"script-src 'self' 'sha256-{hash}'", scripts);
        // The page at another name is sent to its own address, where its script is allowed.
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _herald.Client.BaseAddress };
        var named = await noRedirects.GetAsync("/docs/v1");
        Assert.Equal(HttpStatusCode.Redirect, named.StatusCode);
        Assert.Equal("/docs/", named.Headers.Location?.OriginalString);
        // Its files carry the policy too, with no inline script allowed.
        var bundle = await _herald.Client.GetAsync(new Uri(response.RequestMessage!.RequestUri!, "scalar.js"));
        Assert.Contains("script-src 'self';", string.Join(";", bundle.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
    }

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>(?<body>[\\s\\S]*?)</script>")]
    private static partial Regex InlineScript();

    [Fact]
    public async Task Docs_EveryScriptThePageLoads_IsServedByHerald()
    {
        var response = await _herald.Client.GetAsync("/docs");
        var page = await response.Content.ReadAsStringAsync();
        var pageUri = response.RequestMessage!.RequestUri!;

        var scripts = ScriptSource().Matches(page).Select(m => new Uri(pageUri, m.Groups["src"].Value)).ToList();

        Assert.NotEmpty(scripts);
        Assert.All(scripts, script => Assert.Equal(_herald.Client.BaseAddress!.Authority, script.Authority));
        foreach (var script in scripts)
        {
            var answer = await _herald.Client.GetAsync(script);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{script}: {(int)answer.StatusCode}");
            Assert.Equal("text/javascript", answer.Content.Headers.ContentType?.MediaType);
            Assert.NotEmpty(await answer.Content.ReadAsByteArrayAsync());
        }
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();
}
