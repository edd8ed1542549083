using System.Net;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

public sealed class ApiHeadersTests
{
    [Fact]
    public async Task EveryApiAnswer_ErrorsIncluded_IsNeverCached_NorSniffed()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();

        // An answer with a secret in it, a list, an error and an unauthenticated call alike.
        var created = await merchant.PostAsync("/v1/endpoints", System.Net.Http.Json.JsonContent.Create(new { url = "http://127.0.0.1:9/hooks", format = "thin" }));
        var listed = await merchant.GetAsync("/v1/endpoints");
        var missing = await merchant.GetAsync("/v1/endpoints/ep_01kbz5m0a8q2n9v7c4x6y3w1e5");
        using var anonymous = new HttpClient { BaseAddress = merchant.BaseAddress };
        var refused = await anonymous.GetAsync("/v1/endpoints");
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.Unauthorized),
            (created.StatusCode, listed.StatusCode, missing.StatusCode, refused.StatusCode));
        foreach (var answer in new[] { created, listed, missing, refused })
        {
            Assert.True(answer.Headers.CacheControl?.NoStore, answer.RequestMessage!.RequestUri!.ToString());
            Assert.Equal(["nosniff"], answer.Headers.GetValues("X-Content-Type-Options"));
        }
    }

    [Fact]
    public async Task ThePortalsErrorAnswers_AreGuardedAsItsPagesAre_NeverFramedCachedNorSniffed()
    {
        await using var herald = await HeraldHost.StartAsync();
        // Answered by the error handling, which starts the answer afresh: a missing asset, a form
        // posted without its antiforgery token.
        using var missing = new HttpRequestMessage(HttpMethod.Get, "/portal/assets/no-such-asset.js");
        missing.Headers.Accept.ParseAdd("text/html");
        using var asset = await herald.Client.SendAsync(missing);
        using var form = await herald.Client.PostAsync("/portal/signin", new FormUrlEncodedContent([new("key", "hk_nothing")]));
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.BadRequest), (asset.StatusCode, form.StatusCode));
        foreach (var answer in new[] { asset, form })
        {
            Assert.Equal(["DENY"], answer.Headers.GetValues("X-Frame-Options"));
            Assert.True(answer.Headers.CacheControl?.NoStore);
            Assert.Equal(["nosniff"], answer.Headers.GetValues("X-Content-Type-Options"));
            Assert.Contains("frame-ancestors 'none'", string.Join(";", answer.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        }
        // A page itself, as before.
        using var page = await herald.Client.GetAsync("/portal/signin");
        Assert.Equal(["DENY"], page.Headers.GetValues("X-Frame-Options"));
    }
}
