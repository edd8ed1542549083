using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>The operator's view of its merchants: list, read, rename, and their keys, revoked one by one.</summary>
public sealed class MerchantAdminTests
{
    [Fact]
    public async Task TheAdminListsMerchants_NewestFirst_APageAtATime_AndReadsOne_TheOperatorsOwnNeverAmongThem()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var ids = new List<string>();
        foreach (var name in new[] { "North", "South", "East" })
        {
            ids.Add((await admin.PostJsonAsync("/v1/merchants", new { name })).Str("id"));
            herald.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var all = await admin.GetJsonAsync("/v1/merchants");
        Assert.Equal([ids[2], ids[1], ids[0]], all["data"]!.AsArray().Select(m => m.Str("id")));
        Assert.Equal(["East", "South", "North"], all["data"]!.AsArray().Select(m => m.Str("name")));
        Assert.All(all["data"]!.AsArray(), m => Assert.Null(m!["api_key"]));
        Assert.False(all["has_more"]!.GetValue<bool>());

        var first = await admin.GetJsonAsync("/v1/merchants?limit=2");
        Assert.True(first["has_more"]!.GetValue<bool>());
        var older = await admin.GetJsonAsync($"/v1/merchants?limit=2&starting_after={ids[1]}");
        Assert.Equal([ids[0]], older["data"]!.AsArray().Select(m => m.Str("id")));
        var newer = await admin.GetJsonAsync($"/v1/merchants?limit=2&ending_before={ids[0]}");
        Assert.Equal([ids[2], ids[1]], newer["data"]!.AsArray().Select(m => m.Str("id")));

        var one = await admin.GetJsonAsync($"/v1/merchants/{ids[1]}");
        Assert.Equal("South", one.Str("name"));
        Assert.Equal("2026-11-02T12:00:01.000Z", one.Str("created_at"));

        await AssertErrorAsync(await admin.GetAsync("/v1/merchants/mer_operator"), HttpStatusCode.NotFound, "merchant mer_operator not found");
        await AssertErrorAsync(await admin.GetAsync("/v1/merchants?starting_after=ntf_x"), HttpStatusCode.BadRequest, "starting_after must be a merchant id (mer_…), as a page's ids are");
        await AssertErrorAsync(await admin.GetAsync("/v1/merchants?limit=0"), HttpStatusCode.BadRequest, "limit must be between 1 and 100");

        using var merchant = await herald.NewMerchantAsync();
        await AssertErrorAsync(await merchant.GetAsync("/v1/merchants"), HttpStatusCode.Forbidden, "this route needs the admin key");
        await AssertErrorAsync(await merchant.GetAsync($"/v1/merchants/{ids[0]}"), HttpStatusCode.Forbidden, "this route needs the admin key");
    }

    [Fact]
    public async Task TheAdminRenamesAMerchant_ABadNameIsRefused_AndChangesNothing()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var id = (await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" })).Str("id");

        var renamed = await admin.PatchAsJsonAsync($"/v1/merchants/{id}", new { name = "Acme Payments" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Acme Payments", (await renamed.Content.ReadFromJsonAsync<JsonObject>()).Str("name"));

        await AssertErrorAsync(await admin.PatchAsJsonAsync($"/v1/merchants/{id}", new { name = "" }), HttpStatusCode.BadRequest, "name is required");
        await AssertErrorAsync(await admin.PatchAsJsonAsync($"/v1/merchants/{id}", new { name = new string('x', 201) }), HttpStatusCode.BadRequest, "name is longer than 200 characters");
        await AssertErrorAsync(await admin.PatchAsJsonAsync($"/v1/merchants/{id}", new { name = "X", color = "red" }), HttpStatusCode.BadRequest, null);
        await AssertErrorAsync(await admin.PatchAsJsonAsync("/v1/merchants/mer_missing", new { name = "X" }), HttpStatusCode.NotFound, "merchant mer_missing not found");
        await AssertErrorAsync(await admin.PatchAsJsonAsync("/v1/merchants/mer_operator", new { name = "X" }), HttpStatusCode.NotFound, "merchant mer_operator not found");
        Assert.Equal("Acme Payments", (await admin.GetJsonAsync($"/v1/merchants/{id}")).Str("name"));
    }

    [Fact]
    public async Task TheAdminSeesAMerchantsKeys_AndRevokesALeakedOne_WhichStopsWorkingAtOnce_TheOthersDoNot()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", new { name = "Acme" });
        var id = created.Str("id");
        using var firstKey = herald.As(created.Str("api_key"));
        var second = await firstKey.PostJsonAsync("/v1/api_keys", new { });
        using var secondKey = herald.As(second.Str("api_key"));

        var keys = (await admin.GetJsonAsync($"/v1/merchants/{id}/api_keys"))["data"]!.AsArray();
        Assert.Equal(2, keys.Count);
        Assert.Contains(second.Str("id"), keys.Select(k => k.Str("id")));
        Assert.All(keys, k => Assert.Null(k!["api_key"]));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/merchants/{id}/api_keys/{second.Str("id")}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await secondKey.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await firstKey.GetAsync("/v1/notifications")).StatusCode);
        var revoked = (await admin.GetJsonAsync($"/v1/merchants/{id}/api_keys"))["data"]!.AsArray().Single(k => k.Str("id") == second.Str("id"));
        Assert.NotNull(revoked!["revoked_at"]);

        // Another merchant's key is not this merchant's to revoke, and a revoked one is not revoked twice.
        var other = await admin.PostJsonAsync("/v1/merchants", new { name = "Other" });
        using var otherKey = herald.As(other.Str("api_key"));
        var otherKeyId = (await admin.GetJsonAsync($"/v1/merchants/{other.Str("id")}/api_keys"))["data"]!.AsArray()[0].Str("id");
        await AssertErrorAsync(await admin.DeleteAsync($"/v1/merchants/{id}/api_keys/{otherKeyId}"), HttpStatusCode.NotFound, $"API key {otherKeyId} not found");
        Assert.Equal(HttpStatusCode.OK, (await otherKey.GetAsync("/v1/notifications")).StatusCode);
        await AssertErrorAsync(await admin.DeleteAsync($"/v1/merchants/{id}/api_keys/{second.Str("id")}"), HttpStatusCode.Conflict,
            $"API key {second.Str("id")} is revoked already (at {revoked.Str("revoked_at")}): nothing changed");
        await AssertErrorAsync(await admin.GetAsync("/v1/merchants/mer_missing/api_keys"), HttpStatusCode.NotFound, "merchant mer_missing not found");
        await AssertErrorAsync(await firstKey.GetAsync($"/v1/merchants/{id}/api_keys"), HttpStatusCode.Forbidden, "this route needs the admin key");
    }

    [Fact]
    public async Task AMerchantListsItsCheckoutPreferences_APageAtATime_EachWithItsWebhookAsItsEndpointHasItNow()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var plain = await merchant.PostJsonAsync("/v1/checkout_preferences", new { external_reference = "plain" });
        herald.Clock.Advance(TimeSpan.FromSeconds(1));
        var hooked = await merchant.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = "http://127.0.0.1:9/orders" } });
        var endpointId = hooked.Str("endpoint_id");
        var moved = await merchant.PatchAsJsonAsync($"/v1/endpoints/{endpointId}", new { url = "http://127.0.0.1:9/orders-v2" });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        using var other = await herald.NewMerchantAsync("Other");
        await other.PostJsonAsync("/v1/checkout_preferences", new { external_reference = "not yours" });

        var list = await merchant.GetJsonAsync("/v1/checkout_preferences");
        var data = list["data"]!.AsArray();
        Assert.Equal([hooked.Str("id"), plain.Str("id")], data.Select(p => p.Str("id")));
        Assert.Equal("http://127.0.0.1:9/orders-v2", data[0]!["custom_urls"].Str("status_changes_webhook"));
        Assert.Null(data[0]!["secret"]);
        Assert.Equal("plain", data[1].Str("external_reference"));
        Assert.False(list["has_more"]!.GetValue<bool>());

        var page = await merchant.GetJsonAsync("/v1/checkout_preferences?limit=1");
        Assert.True(page["has_more"]!.GetValue<bool>());
        var next = await merchant.GetJsonAsync($"/v1/checkout_preferences?limit=1&starting_after={hooked.Str("id")}");
        Assert.Equal([plain.Str("id")], next["data"]!.AsArray().Select(p => p.Str("id")));

        await AssertErrorAsync(await merchant.GetAsync("/v1/checkout_preferences?starting_after=abc"), HttpStatusCode.BadRequest,
            "starting_after must be a checkout preference id (pref_…), as a page's ids are");
        Assert.Equal(HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/endpoints/{endpointId}")).StatusCode);
        var afterDelete = (await merchant.GetJsonAsync("/v1/checkout_preferences"))["data"]!.AsArray();
        Assert.Null(afterDelete[0]!["custom_urls"]!["status_changes_webhook"]);
        Assert.Null(afterDelete[0]!["endpoint_id"]);
        var one = await merchant.GetJsonAsync($"/v1/checkout_preferences/{hooked.Str("id")}");
        Assert.Null(one["endpoint_id"]);

        // An empty webhook is neither a URL nor none: said so, and nothing made.
        var empty = await merchant.PostAsJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = "" } });
        await AssertErrorAsync(empty, HttpStatusCode.BadRequest,
            "custom_urls.status_changes_webhook is empty: give the URL that receives the orders' notifications, or leave it out (or null) for a preference without one");
        Assert.Equal(2, (await merchant.GetJsonAsync("/v1/checkout_preferences"))["data"]!.AsArray().Count);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? message)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal((int)status, body!["statusCode"]!.GetValue<int>());
        if (message is not null)
        {
            Assert.Equal([message], body["message"]!.AsArray().Select(m => m!.GetValue<string>()));
        }
    }
}
