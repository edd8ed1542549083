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
    public async Task AMerchantsKeys_ShareOneBudget_SoMakingKeysDoesNotMultiplyIt()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (1, 8));
        using var merchant = await herald.NewMerchantAsync("Many keys");
        using var calm = await herald.NewMerchantAsync("Calm");
        var keys = new List<HttpClient> { merchant };
        for (var i = 0; i < 4; i++)
        {
            keys.Add(herald.As((await merchant.PostJsonAsync("/v1/api_keys", new { })).Str("api_key")));
        }
        try
        {
            // Taking turns with five keys: with a bucket a key, 30 requests would pass before any 429 (5 x 8).
            var served = 0;
            HttpResponseMessage? limited = null;
            for (var i = 0; i < 30 && limited is null; i++)
            {
                var response = await keys[i % keys.Count].GetAsync("/v1/notifications");
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    limited = response;
                    break;
                }
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                served++;
            }
            // One bucket of 8 for the merchant (refilling 1 a second; a new key's first request is counted
            // by its address, before it is known to be the merchant's): far fewer than 30.
            Assert.NotNull(limited);
            Assert.InRange(served, 1, 8 + keys.Count + 4);
            Assert.Equal("too many requests for this merchant; slow down and retry after the Retry-After seconds",
                JsonNode.Parse(await limited!.Content.ReadAsStringAsync())!["message"]![0]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await calm.GetAsync("/v1/notifications")).StatusCode);
        }
        finally
        {
            foreach (var key in keys.Skip(1))
            {
                key.Dispose();
            }
        }
    }

    [Fact]
    public async Task ARevokedKey_NoLongerSpendsItsMerchantsBudget()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (1, 6));
        using var merchant = await herald.NewMerchantAsync();
        var leaked = await merchant.PostJsonAsync("/v1/api_keys", new { });
        using var thief = herald.As(leaked.Str("api_key"));
        Assert.Equal(HttpStatusCode.OK, (await thief.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/api_keys/{leaked.Str("id")}")).StatusCode);
        // Refused from then on, and charged to its address once refused, never again to the merchant's bucket.
        for (var i = 0; i < 20; i++)
        {
            Assert.True((await thief.GetAsync("/v1/notifications")).StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests);
        }
        // The merchant spent 2 of its 6 (the new key, its revocation) and the revoked key 1: it is served.
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/v1/notifications")).StatusCode);
    }

    [Fact]
    public async Task ThePortal_IsLimitedToo()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (1, 5));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
        {
            statuses.Add((await herald.Client.GetAsync("/portal/signin")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.InRange(statuses.Count, 6, 8);
        // Refused as a portal page is: never framed, cached or sniffed, and saying whose budget ran out.
        var refused = await herald.Client.GetAsync("/portal/signin");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(["DENY"], refused.Headers.GetValues("X-Frame-Options"));
        Assert.True(refused.Headers.CacheControl?.NoStore);
        Assert.Contains("too many requests from this address", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A made-up session cookie gets no bucket of its own: still this address's.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/portal/signin");
        request.Headers.Add("Cookie", "herald_portal=" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await herald.Client.SendAsync(request)).StatusCode);
        // Operations are not the portal's: never limited.
        Assert.Equal(HttpStatusCode.OK, (await herald.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task MadeUpKeysFromOneAddress_Are429PastTheirBudget_ThenTheAddressIsServedAgain()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b => { }, rateLimit: (100, 100));
        using var merchant = await herald.NewMerchantAsync();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        // The budget refills by 10 a second: 200 guesses outrun it however slowly each is answered.
        for (var i = 0; i < 200 && limited is null; i++)
        {
            // Every key is new: each would have a bucket of its own in the per-key limit.
            using var guess = herald.As("hk_" + Guid.NewGuid().ToString("N"));
            var response = await guess.GetAsync("/v1/notifications");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }
        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) >= 2 * 10);
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var body = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!;
        Assert.Equal(429, body["statusCode"]!.GetValue<int>());
        Assert.Contains("unknown API keys", body["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        // While the budget is spent, the address waits; once it refills, a real key is served.
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetAsync("/v1/notifications")).StatusCode == HttpStatusCode.OK);
    }

    /// <summary>Lists notifications as a client at <paramref name="from"/> behind the trusted proxy (the test's own address).</summary>
    private static HttpStatusCode ListFrom(HttpClient client, string from)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
        request.Headers.Add("X-Forwarded-For", from);
        using var response = client.Send(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task MadeUpKeysFromAddressesOfOneIPv6Network_ShareOneBudget()
    {
        // Behind a trusted proxy, the client's address is the one it forwards.
        await using var herald = await HeraldHost.StartAsync(rateLimit: (100, 100), tune: o => o.TrustedProxies.Add("127.0.0.1"));
        HttpStatusCode Guess(string from)
        {
            using var guess = herald.As("hk_" + Guid.NewGuid().ToString("N"));
            return ListFrom(guess, from);
        }
        // Every guess from a fresh address of the same /64, as a client holding the network can make.
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 200 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
        {
            statuses.Add(Guess($"2001:db8:1:2:{i:x}::{i:x}"));
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        // Another network, and an IPv4 client, have budgets of their own.
        Assert.Equal(HttpStatusCode.Unauthorized, Guess("2001:db8:1:3::1"));
        Assert.Equal(HttpStatusCode.Unauthorized, Guess("192.0.2.7"));
    }

    [Fact]
    public async Task CallsWithoutAKey_FromAddressesOfOneIPv6Network_ShareOneLimit()
    {
        await using var herald = await HeraldHost.StartAsync(rateLimit: (2, 2), tune: o => o.TrustedProxies.Add("127.0.0.1"));
        HttpStatusCode Call(string from) => ListFrom(herald.Client, from);
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 50 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
        {
            statuses.Add(Call($"2001:db8:7:8:{i:x}::1"));
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.Unauthorized, Call("2001:db8:7:9::1"));
    }

    [Fact]
    public async Task AMerchantHoldsAtMost25ActiveKeys()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        // The key made with the merchant is the first.
        string made = "";
        for (var i = 1; i < 25; i++)
        {
            made = (await merchant.PostJsonAsync("/v1/api_keys", new { })).Str("id");
        }
        var refused = await merchant.PostJsonAsync("/v1/api_keys", new { }, 409);
        Assert.Contains("at most 25 active API keys", refused["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var keys = (await merchant.GetJsonAsync("/v1/api_keys?limit=100"))["data"]!.AsArray();
        Assert.Equal(25, keys.Count);
        // Revoking one makes room for another.
        Assert.Equal(HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/api_keys/{made}")).StatusCode);
        await merchant.PostJsonAsync("/v1/api_keys", new { });
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
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 12; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            request.Headers.TryAddWithoutValidation("Authorization", spellings[i % spellings.Length]);
            statuses.Add((await herald.Client.SendAsync(request)).StatusCode);
        }
        elapsed.Stop();
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Contains(HttpStatusCode.OK, statuses);
        // One bucket: a burst of 3 and one more for each second the requests took (however long a
        // busy machine made that), where a bucket per spelling would serve all twelve at once.
        var served = 3 + (int)Math.Ceiling(elapsed.Elapsed.TotalSeconds);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= served,
            $"{string.Join(", ", statuses)} in {elapsed.Elapsed.TotalSeconds:F1} s: more than one bucket of 3 and 1/s serves");
    }
}
