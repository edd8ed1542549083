using System.Net;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

public sealed class QueryParameterTests
{
    [Theory]
    // A mistyped filter would list everything unfiltered, as if it had been read.
    [InlineData("/v1/notifications?entity=tx_1", "unknown query parameter 'entity': this route takes status, endpoint_id, entity_id, event_type, event_id, since, until, limit, starting_after, ending_before")]
    [InlineData("/v1/notifications?limit=5&foo=bar", "unknown query parameter 'foo': this route takes status, endpoint_id, entity_id, event_type, event_id, since, until, limit, starting_after, ending_before")]
    [InlineData("/v1/endpoints?url=https://x", "unknown query parameter 'url': this route takes limit, starting_after, ending_before")]
    [InlineData("/v1/endpoints/ep_01kbz5m0a8q2n9v7c4x6y3w1e5?expand=secret", "unknown query parameter 'expand': this route takes none")]
    [InlineData("/v1/notifications?endpoint_id=", "query parameter endpoint_id is empty: give it a value, or leave it out")]
    [InlineData("/v1/events?entity_id=", "query parameter entity_id is empty: give it a value, or leave it out")]
    // Given twice, its values would be read joined by a comma: a filter matching nothing.
    [InlineData("/v1/notifications?entity_id=tx_1&entity_id=tx_1", "query parameter entity_id is given 2 times; give it once")]
    [InlineData("/v1/events?entity_id=tx_1&ENTITY_ID=tx_2", "query parameter entity_id is given 2 times; give it once")]
    // A type no format sends would always list nothing.
    [InlineData("/v1/notifications?event_type=PAYMENT_INTENT.OPEN", "PAYMENT_INTENT.OPEN is never notified, so no notification has it (GET /v1/event_types lists those that are)")]
    public async Task AQueryParameterTheRouteDoesNotTake_OrOneGivenEmpty_Is400(string path, string message)
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var response = await merchant.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(message, error["message"]![0]!.GetValue<string>());
        Assert.Equal("Bad Request", error.Str("error"));
    }

    [Fact]
    public async Task TheParametersARouteTakes_AreServedAsBefore()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        // In any case, as they are bound; an empty cursor is the first page.
        foreach (var path in new[] { "/v1/notifications?status=pending&limit=5", "/v1/endpoints?limit=1", "/v1/events?limit=2", "/v1/stats",
            "/v1/notifications?Status=pending&Limit=5", "/v1/endpoints?starting_after=&ending_before=" })
        {
            var response = await merchant.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        // Without a key, the key is what is missing, whatever the query.
        using var anonymous = new HttpClient { BaseAddress = merchant.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/notifications?entity=x")).StatusCode);
    }
}
