using System.Net;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Security;

public sealed class ApiKeyTests
{
    [Fact]
    public async Task MerchantCreatesAKey_ItWorks_ThenRevokedItIs401()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var created = await merchant.PostJsonAsync("/v1/api_keys", new { });
        var key = created.Str("api_key");
        Assert.StartsWith("hk_", key, StringComparison.Ordinal);

        using var second = herald.As(key);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/v1/notifications")).StatusCode);
        var listed = (await merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, k => Assert.Null(k!["api_key"]));

        var revoke = await merchant.DeleteAsync($"/v1/api_keys/{created.Str("id")}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/v1/notifications")).StatusCode);

        using var other = await herald.NewMerchantAsync("Other");
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/v1/api_keys/{created.Str("id")}")).StatusCode);
    }

    [Fact]
    public async Task ThePathInAnotherCase_IsAuthenticatedLikeItsRoute()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        // Routes match without regard to case; the key must be read for them all the same.
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/V1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await herald.Client.GetAsync("/V1/notifications")).StatusCode);
    }
}
