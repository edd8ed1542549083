using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>A merchant's endpoints are bounded: each change goes to every one of them.</summary>
public sealed class EndpointLimitTests
{
    [Fact]
    public async Task PastTheMerchantsEndpointLimit_ANewEndpointIs409_NothingMade_ADeletedOneFreesItsPlace_PreferencesNotCounted()
    {
        await using var herald = await HeraldHost.StartAsync(tune: o => o.EndpointsPerMerchant = 2);
        using var merchant = await herald.NewMerchantAsync();
        // A checkout preference's webhook is an endpoint of its own, receiving only its orders: not counted.
        using (var preference = await merchant.PostAsJsonAsync("/v1/checkout_preferences",
            new { custom_urls = new { status_changes_webhook = "http://127.0.0.1:9/orders" } }))
        {
            Assert.Equal(HttpStatusCode.Created, preference.StatusCode);
        }
        var first = await merchant.AddEndpointAsync("http://127.0.0.1:9/a", "thin");
        await merchant.AddEndpointAsync("http://127.0.0.1:9/b", "transaction");

        using var refused = await merchant.PostAsJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/c", format = "thin" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var body = await refused.Content.ReadFromJsonAsync<JsonObject>();
        Assert.StartsWith("the merchant has 2 endpoints already, the most it may have", body!["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var listed = (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray();
        Assert.Equal(3, listed.Count);
        Assert.DoesNotContain(listed, e => e!["url"]!.GetValue<string>() == "http://127.0.0.1:9/c");

        // Another merchant has its own places.
        using var other = await herald.NewMerchantAsync("Other");
        await other.AddEndpointAsync("http://127.0.0.1:9/other", "thin");

        using (var deleted = await merchant.DeleteAsync($"/v1/endpoints/{first.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await merchant.AddEndpointAsync("http://127.0.0.1:9/c", "thin");
    }

    [Fact]
    public async Task ConcurrentCreates_NeverTakeAMerchantPastItsLimit()
    {
        await using var herald = await HeraldHost.StartAsync(tune: o => o.EndpointsPerMerchant = 3);
        using var merchant = await herald.NewMerchantAsync();
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await merchant.PostAsJsonAsync("/v1/endpoints", new { url = $"http://127.0.0.1:9/{i}", format = "thin" });
            return response.StatusCode;
        }));
        Assert.Equal(3, answers.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(9, answers.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(3, (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray().Count);
    }
}
