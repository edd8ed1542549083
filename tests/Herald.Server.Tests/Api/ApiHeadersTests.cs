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
}
