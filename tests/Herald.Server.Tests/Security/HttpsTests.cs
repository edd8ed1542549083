using System.Net;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Security;

/// <summary>Herald serving HTTPS itself, with a self-signed certificate made for the test.</summary>
public sealed class HttpsTests : IDisposable
{
    private readonly SelfSignedCertificate _certificate = new();

    public void Dispose() => _certificate.Dispose();

    private HttpClient TrustingOnlyOurCertificate(Uri baseAddress, bool useCookies = true) => _certificate.TrustingClient(baseAddress, useCookies);

    [Fact]
    public async Task Errors_OverHttps_SayHstsToo()
    {
        await using var herald = await HeraldHost.StartAsync(tune: o =>
        {
            o.Urls = "https://127.0.0.1:0";
            o.HttpsCertificatePath = _certificate.PemPath;
            o.HttpsKeyPath = _certificate.KeyPath;
        });
        using var client = TrustingOnlyOurCertificate(herald.Client.BaseAddress!);
        foreach (var path in new[] { "/v1/endpoints", "/v1/no-such-route" })
        {
            // An error answer (401, 404) is an HTTPS answer like any other: it keeps the browser on HTTPS as well.
            var response = await client.GetAsync(path);
            Assert.False(response.IsSuccessStatusCode, path);
            Assert.True(response.Headers.TryGetValues("Strict-Transport-Security", out var values), $"{path}: {(int)response.StatusCode} without HSTS");
            Assert.Contains("max-age=31536000", values.Single(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("pfx")]
    [InlineData("pem")]
    public async Task Serve_WithACertificate_AnswersOverHttpsWithHsts(string kind)
    {
        await using var herald = await HeraldHost.StartAsync(tune: o =>
        {
            o.Urls = "https://127.0.0.1:0";
            if (kind == "pfx")
            {
                o.HttpsCertificatePath = _certificate.PfxPath;
                o.HttpsCertificatePassword = SelfSignedCertificate.Password;
            }
            else
            {
                o.HttpsCertificatePath = _certificate.PemPath;
                o.HttpsKeyPath = _certificate.KeyPath;
            }
        });
        Assert.Equal("https", herald.Client.BaseAddress!.Scheme);
        using var client = TrustingOnlyOurCertificate(herald.Client.BaseAddress);
        var response = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

        // A client that validates normally refuses the self-signed certificate: nothing is switched off.
        using var strict = new HttpClient { BaseAddress = herald.Client.BaseAddress };
        await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetAsync("/healthz"));
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.9.9.9", true)]
    public async Task ForwardedFor_IsBelievedOnlyFromTrustedProxies(string trustedProxy, bool expectLimited)
    {
        // Anonymous callers are rate-limited per client address: with a trusted proxy in front, that is
        // the forwarded address; otherwise it is the proxy's own, shared by everyone behind it.
        await using var herald = await HeraldHost.StartAsync(rateLimit: (2, 2), tune: o => o.TrustedProxies.Add(trustedProxy));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            statuses.Add((await herald.Client.SendAsync(request)).StatusCode);
        }
        Assert.Equal(expectLimited, statuses.Contains(HttpStatusCode.TooManyRequests));
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Portal_OverHttps_SetsSecureCookies()
    {
        await using var herald = await HeraldHost.StartAsync(tune: o =>
        {
            o.Urls = "https://127.0.0.1:0";
            o.HttpsCertificatePath = _certificate.PfxPath;
            o.HttpsCertificatePassword = SelfSignedCertificate.Password;
        });
        using var admin = TrustingOnlyOurCertificate(herald.Client.BaseAddress!);
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", HeraldHost.AdminKey);
        var key = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" })).Str("api_key");
        // Cookies by hand, to read the attributes the portal sets on them.
        using var browser = TrustingOnlyOurCertificate(herald.Client.BaseAddress!, useCookies: false);

        var form = await browser.GetAsync("/portal/signin");
        var html = await form.Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        var antiforgery = form.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("herald_portal_af=", StringComparison.Ordinal));
        using var post = new HttpRequestMessage(HttpMethod.Post, "/portal/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["__RequestVerificationToken"] = token }),
        };
        post.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        var signedIn = await browser.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("herald_portal=", StringComparison.Ordinal));
        Assert.Contains("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", session, StringComparison.OrdinalIgnoreCase);
    }
}
