using System.Net;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Security;

public sealed class RateLimitTests
{
    [Fact]
    public async Task AKeyOverItsRate_Gets429WithRetryAfter_WhileAnotherKeyIsServed()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (5, 5));
        using var busy = await herald.NewMerchantAsync("Busy");
        using var calm = await herald.NewMerchantAsync("Calm");
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 12 && limited is null; i++)
        {
            var response = await busy.GetAsync("/v1/notifications");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }
        Assert.NotNull(limited);
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var body = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!;
        Assert.Equal(429, body["statusCode"]!.GetValue<int>());
        Assert.Equal("Too Many Requests", body.Str("error"));
        Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await herald.Client.GetAsync("/healthz")).StatusCode);
    }
}
