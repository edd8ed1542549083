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

    [Fact]
    public async Task TheSameKeyWrittenAnotherWay_SharesItsBucket()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (1, 3));
        using var merchant = await herald.NewMerchantAsync("Busy");
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        // Each of these authenticates as the same key: none may open a bucket of its own.
        string[] spellings = ["Bearer " + key, "bearer " + key, "BEARER " + key, "Bearer  " + key, "Bearer " + key + " ", "bEaReR   " + key];
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            request.Headers.TryAddWithoutValidation("Authorization", spellings[i % spellings.Length]);
            statuses.Add((await herald.Client.SendAsync(request)).StatusCode);
        }
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Contains(HttpStatusCode.OK, statuses);
        // A burst of 3 and one more a second: twelve requests in a few seconds get a handful served.
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= 6, string.Join(", ", statuses));
    }
}
