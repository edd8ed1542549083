using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>Every create answers 201 with Location: the path of what it made, where the same caller finds it.</summary>
public sealed class CreatedLocationTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private HttpClient _admin = null!;
    private HttpClient _merchant = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync();
        _admin = _herald.As(HeraldHost.AdminKey);
        _merchant = await _herald.NewMerchantAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _merchant.Dispose();
        await _herald.DisposeAsync();
    }

    [Fact]
    public async Task CreateMerchant_Location_ReadsTheMerchant()
    {
        await AssertLocationReadsAsync(_admin, "/v1/merchants", new { name = "North" }, "id");
    }

    [Fact]
    public async Task CreateEndpoint_Location_ReadsTheEndpoint()
    {
        await AssertLocationReadsAsync(_merchant, "/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "thin" }, "id");
    }

    [Fact]
    public async Task CreateCheckoutPreference_Location_ReadsThePreference()
    {
        await AssertLocationReadsAsync(_merchant, "/v1/checkout_preferences", new { external_reference = "cart-1" }, "id");
    }

    [Fact]
    public async Task CreateEntities_Location_ReadsEachEntity()
    {
        await AssertLocationReadsAsync(_merchant, "/v1/payment_intents", new { amount = 1500, site = "mlb", client_id = 7, caller_id = 9 }, "id");
        await AssertLocationReadsAsync(_merchant, "/v1/payment_orders", new { amount = 12.5, currency = "BRL" }, "id");
        await AssertLocationReadsAsync(_merchant, "/v1/transactions", Merchant.SeedTransaction(), "internalId");
    }

    [Fact]
    public Task CreateApiKey_Location_IsWhereTheMerchantRevokesIt() => AssertKeyLocationAsync(_merchant, "/v1/api_keys");

    [Fact]
    public async Task AdminIssuesAMerchantAKey_Location_IsWhereTheAdminRevokesIt()
    {
        var merchantId = (await _admin.PostJsonAsync("/v1/merchants", new { name = "South" })).Str("id");
        await AssertKeyLocationAsync(_admin, $"/v1/merchants/{merchantId}/api_keys");
    }

    /// <summary>A key made at <paramref name="collection"/> is read at its Location, revoked there, and stops working.</summary>
    private async Task AssertKeyLocationAsync(HttpClient client, string collection)
    {
        var (key, location) = await CreateAsync(client, collection, new { });

        Assert.Equal($"{collection}/{key.Str("id")}", location);
        await AssertKeyAtAsync(client, location, key.Str("id"), revoked: false);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(location)).StatusCode);
        await AssertKeyAtAsync(client, location, key.Str("id"), revoked: true);
        using var revoked = _herald.As(key.Str("api_key"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/v1/endpoints")).StatusCode);
    }

    [Fact]
    public async Task CreateOperatorEndpoint_Location_IsWhereTheAdminManagesIt()
    {
        var (endpoint, location) = await CreateAsync(_admin, "/v1/operator/endpoints", new { url = "http://127.0.0.1:9/ops" });

        Assert.Equal($"/v1/operator/endpoints/{endpoint.Str("id")}", location);
        Assert.Equal(endpoint.Str("url"), (await _admin.GetJsonAsync(location)).Str("url"));
        var paused = await _admin.PostJsonAsync(location + "/pause", new { }, expectedStatus: 200);
        Assert.Equal(endpoint.Str("id"), paused.Str("id"));
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync(location)).StatusCode);
    }

    /// <summary>The key at <paramref name="location"/>: itself, never its secret, revoked or not.</summary>
    private static async Task AssertKeyAtAsync(HttpClient client, string location, string id, bool revoked)
    {
        var read = await client.GetJsonAsync(location);
        Assert.Equal(id, read.Str("id"));
        Assert.False(read.ContainsKey("api_key"));
        Assert.Equal(revoked, read["revoked_at"] is not null);
    }

    /// <summary>Creates at <paramref name="collection"/>; Location is the new resource's path under it, and GET there reads it.</summary>
    private static async Task AssertLocationReadsAsync(HttpClient client, string collection, object body, string idField)
    {
        var (created, location) = await CreateAsync(client, collection, body);

        Assert.Equal($"{collection}/{created.Str(idField)}", location);
        var read = await client.GetJsonAsync(location);
        Assert.Equal(created.Str(idField), read.Str(idField));
    }

    private static async Task<(JsonObject Created, string Location)> CreateAsync(HttpClient client, string collection, object body)
    {
        var response = await client.PostAsJsonAsync(collection, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {collection}: {(int)response.StatusCode}: {text}");
        var location = response.Headers.Location;
        Assert.NotNull(location);
        Assert.False(location.IsAbsoluteUri, $"Location {location} is a path");
        return (JsonNode.Parse(text)!.AsObject(), location.OriginalString);
    }
}
