using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>The lists read whole from the store (endpoints, keys, operator webhooks) page as the others do.</summary>
public sealed class ListPagingTests
{
    [Fact]
    public async Task Endpoints_ArePagedNewestFirst_BothWays_AndABadLimitOrCursorIs400()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await merchant.AddEndpointAsync($"http://127.0.0.1:9/hooks/{i}", "thin")).Id);
            herald.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([ids[2], ids[1], ids[0]], await IdsAsync(merchant, "/v1/endpoints", false));
        Assert.Equal([ids[2], ids[1]], await IdsAsync(merchant, "/v1/endpoints?limit=2", true));
        Assert.Equal([ids[0]], await IdsAsync(merchant, $"/v1/endpoints?limit=2&starting_after={ids[1]}", false));
        Assert.Equal([ids[2], ids[1]], await IdsAsync(merchant, $"/v1/endpoints?limit=2&ending_before={ids[0]}", false));
        Assert.Equal([ids[1]], await IdsAsync(merchant, $"/v1/endpoints?limit=1&ending_before={ids[0]}", true));

        foreach (var (query, message) in new[]
        {
            ("limit=0", "limit must be between 1 and 100"),
            ("limit=101", "limit must be between 1 and 100"),
            ("limit=abc", "limit"),
            ("starting_after=ntf_x", "starting_after must be an endpoint id (ep_…)"),
            ($"starting_after={ids[0]}&ending_before={ids[1]}", "cannot be combined"),
        })
        {
            using var response = await merchant.GetAsync("/v1/endpoints?" + query);
            var body = await response.Content.ReadFromJsonAsync<JsonObject>();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {body}");
            Assert.Contains(message, body!["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheLogFilteredByAnIdOfAnotherKind_Is400_WhileOneOfItsKindThatNamesNothing_ListsNothing()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "thin");
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        Assert.Single(await merchant.NotificationsAsync($"endpoint_id={endpoint}"));

        foreach (var (query, message) in new[]
        {
            ("endpoint_id=key_01abc", "endpoint_id must be an endpoint id (ep_…), not 'key_01abc'"),
            ("endpoint_id=garbage", "endpoint_id must be an endpoint id (ep_…), not 'garbage'"),
            ($"event_id={endpoint}", $"event_id must be an event id (evt_…), not '{endpoint}'"),
        })
        {
            using var response = await merchant.GetAsync("/v1/notifications?" + query);
            var body = await response.Content.ReadFromJsonAsync<JsonObject>();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {body}");
            Assert.Equal(message, body!["message"]![0]!.GetValue<string>());
        }
        // Of its kind, naming nothing of this merchant's (a test notification's id among them): an empty page.
        Assert.Empty(await merchant.NotificationsAsync("endpoint_id=ep_00000000000000000000000000"));
        Assert.Empty(await merchant.NotificationsAsync("event_id=evt_test_01abc"));
    }

    [Fact]
    public async Task ApiKeysAndOperatorWebhooks_ArePagedToo()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        herald.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = (await merchant.PostJsonAsync("/v1/api_keys", new { })).Str("id");
        var keys = await IdsAsync(merchant, "/v1/api_keys?limit=1", true);
        Assert.Equal([second], keys);
        var older = await IdsAsync(merchant, $"/v1/api_keys?limit=1&starting_after={second}", false);
        Assert.Single(older);
        Assert.NotEqual(second, older[0]);

        using var admin = herald.As(HeraldHost.AdminKey);
        var hooks = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            hooks.Add((await admin.PostJsonAsync("/v1/operator/endpoints", new { url = $"http://127.0.0.1:9/ops/{i}" })).Str("id"));
            herald.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal([hooks[1]], await IdsAsync(admin, "/v1/operator/endpoints?limit=1", true));
        Assert.Equal([hooks[0]], await IdsAsync(admin, $"/v1/operator/endpoints?starting_after={hooks[1]}", false));
    }

    private static async Task<List<string>> IdsAsync(HttpClient client, string path, bool hasMore)
    {
        var page = await client.GetJsonAsync(path);
        Assert.Equal(hasMore, page["has_more"]!.GetValue<bool>());
        return page["data"]!.AsArray().Select(e => e.Str("id")).ToList();
    }
}
