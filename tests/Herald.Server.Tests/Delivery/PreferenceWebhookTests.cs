using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Server.Tests.Delivery;

/// <summary>
/// A merchant's server makes a checkout preference per checkout, all with one webhook URL: the
/// preferences at a URL share one endpoint and one signing secret, and each order is still notified
/// only through its own preference's webhook.
/// </summary>
public sealed class PreferenceWebhookTests : HeraldWithReceiver
{
    private static Task<JsonObject> PreferenceAsync(HttpClient merchant, string? webhook) =>
        merchant.PostJsonAsync("/v1/checkout_preferences", webhook is null ? new { } : new { custom_urls = new { status_changes_webhook = webhook } });

    private static async Task<string> OrderAsync(HttpClient merchant, JsonObject preference) =>
        (await merchant.PostJsonAsync("/v1/payment_orders", new { preference_id = preference.Str("id"), amount = 10, currency = "ARS" })).Str("id");

    private static async Task<JsonArray> PreferenceEndpointsAsync(HttpClient merchant) =>
        new([.. (await merchant.GetJsonAsync("/v1/endpoints?limit=100"))["data"]!.AsArray()
            .Where(e => e!.Str("source") == "checkout_preference").Select(e => e!.DeepClone())]);

    private static bool Verifies(ReceivedRequest request, string secret, DateTimeOffset now) =>
        WebhookSignature.Verify(secret, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], Encoding.UTF8.GetBytes(request.Body), now, TimeSpan.FromMinutes(5));

    [Fact]
    public async Task PreferencesAtOneUrl_ShareOneEndpointAndSecret_AndEachOrderIsNotifiedThroughItsOwnPreferencesWebhook()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var first = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        var second = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        var elsewhere = await PreferenceAsync(merchant, Receiver.Url + "/other");
        var without = await PreferenceAsync(merchant, null);

        // The second is notified through the first's endpoint, and answered the secret that signs it.
        Assert.Equal(first.Str("endpoint_id"), second.Str("endpoint_id"));
        Assert.Equal(first.Str("secret"), second.Str("secret"));
        Assert.NotEqual(first.Str("endpoint_id"), elsewhere.Str("endpoint_id"));
        Assert.NotEqual(first.Str("secret"), elsewhere.Str("secret"));
        var endpoints = await PreferenceEndpointsAsync(merchant);
        Assert.Equal(2, endpoints.Count);
        // The endpoint names the preference that made it, the first at its URL.
        Assert.Equal(first.Str("id"), endpoints.Single(e => e!.Str("id") == first.Str("endpoint_id"))!.Str("preference_id"));
        var read = await merchant.GetJsonAsync($"/v1/checkout_preferences/{second.Str("id")}");
        Assert.Equal(Receiver.Url + "/orders", read["custom_urls"]!.Str("status_changes_webhook"));
        Assert.Equal(first.Str("endpoint_id"), read.Str("endpoint_id"));
        Assert.Null(read["secret"]);

        var orders = new[] { await OrderAsync(merchant, first), await OrderAsync(merchant, second), await OrderAsync(merchant, elsewhere) };
        await OrderAsync(merchant, without);
        await Receiver.WaitForAsync(3);
        await Task.Delay(300);
        var received = Receiver.Received.ToList();
        Assert.Equal(3, received.Count);
        var now = Herald.Clock.GetUtcNow();
        foreach (var (order, url, secret) in new[] { (orders[0], "/orders", first.Str("secret")), (orders[1], "/orders", first.Str("secret")), (orders[2], "/other", elsewhere.Str("secret")) })
        {
            var request = Assert.Single(received, r => JsonNode.Parse(r.Body)!.Str("entity_id") == order);
            Assert.Equal(new Uri(Receiver.Url + url).AbsolutePath, request.Path);
            Assert.True(Verifies(request, secret, now), $"the notification of {order} does not verify with its webhook's secret");
        }
        Assert.Single(await merchant.NotificationsAsync($"entity_id={orders[1]}"));

        // A secret rotated since is the one the next preference at the URL is answered.
        var rotated = await merchant.PostJsonAsync($"/v1/endpoints/{first.Str("endpoint_id")}/rotate_secret", new { grace_seconds = 0 }, 200);
        var third = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        Assert.Equal(first.Str("endpoint_id"), third.Str("endpoint_id"));
        Assert.Equal(rotated.Str("secret"), third.Str("secret"));
        Assert.Equal(2, (await PreferenceEndpointsAsync(merchant)).Count);
    }

    [Fact]
    public async Task APreferenceAtTheUrlOfADeletedPreferenceEndpoint_MakesAnother_AndOneMovedIsFoundAtItsNewUrl()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var first = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        using (var patch = await merchant.PatchAsync($"/v1/endpoints/{first.Str("endpoint_id")}", JsonContent.Create(new { url = Receiver.Url + "/moved" })))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }
        var atMoved = await PreferenceAsync(merchant, Receiver.Url + "/moved");
        Assert.Equal(first.Str("endpoint_id"), atMoved.Str("endpoint_id"));
        var atOld = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        Assert.NotEqual(first.Str("endpoint_id"), atOld.Str("endpoint_id"));
        Assert.NotEqual(first.Str("secret"), atOld.Str("secret"));

        using (var delete = await merchant.DeleteAsync($"/v1/endpoints/{atOld.Str("endpoint_id")}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        var afterDelete = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        Assert.NotEqual(atOld.Str("endpoint_id"), afterDelete.Str("endpoint_id"));
        Assert.StartsWith("whsec_", afterDelete.Str("secret"), StringComparison.Ordinal);
        // The preference whose endpoint was deleted keeps no webhook; the one made since has its own.
        Assert.Null((await merchant.GetJsonAsync($"/v1/checkout_preferences/{atOld.Str("id")}"))["endpoint_id"]);
        Assert.Equal(2, (await PreferenceEndpointsAsync(merchant)).Count);

        var order = await OrderAsync(merchant, afterDelete);
        var request = await Receiver.WaitForAsync(1);
        Assert.Equal(new Uri(Receiver.Url + "/orders").AbsolutePath, request.Path);
        Assert.Equal(order, JsonNode.Parse(request.Body)!.Str("entity_id"));
        Assert.True(Verifies(request, afterDelete.Str("secret"), Herald.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task PreferenceEndpointsAtOneUrl_EachKeepNotifyingTheirOwnPreferencesOrders_AndTheNextAtTheUrlSharesTheOldest()
    {
        // Two endpoints of preferences at one URL, each with its own secret: as a database of an
        // earlier release holds them (one endpoint a preference), or as a move of one's URL leaves them.
        using var merchant = await Herald.NewMerchantAsync();
        var older = new[] { await PreferenceAsync(merchant, Receiver.Url + "/orders"), await PreferenceAsync(merchant, Receiver.Url + "/before") };
        using (var patch = await merchant.PatchAsync($"/v1/endpoints/{older[1].Str("endpoint_id")}", JsonContent.Create(new { url = Receiver.Url + "/orders" })))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var orders = new[] { await OrderAsync(merchant, older[0]), await OrderAsync(merchant, older[1]) };
        await Receiver.WaitForAsync(2);
        await Task.Delay(300);
        Assert.Equal(2, Receiver.Received.Count);
        for (var i = 0; i < 2; i++)
        {
            // Each order once, through its own preference's endpoint, signed with that one's secret.
            var notification = Assert.Single(await merchant.NotificationsAsync($"entity_id={orders[i]}"));
            Assert.Equal(older[i].Str("endpoint_id"), notification!.Str("endpoint_id"));
            var request = Assert.Single(Receiver.Received, r => JsonNode.Parse(r.Body)!.Str("entity_id") == orders[i]);
            Assert.True(Verifies(request, older[i].Str("secret"), Herald.Clock.GetUtcNow()));
        }

        var next = await PreferenceAsync(merchant, Receiver.Url + "/orders");
        Assert.Equal(older[0].Str("endpoint_id"), next.Str("endpoint_id"));
        Assert.Equal(older[0].Str("secret"), next.Str("secret"));
        Assert.Equal(2, (await PreferenceEndpointsAsync(merchant)).Count);
    }

    [Fact]
    public async Task OrdersOfPreferencesAtTwoUrls_EachGoToTheirOwnPreferencesEndpointOnly_AlsoOnceOneIsDeletedAndAnotherMadeAtItsUrl()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var atA = await PreferenceAsync(merchant, Receiver.Url + "/a");
        var atB = await PreferenceAsync(merchant, Receiver.Url + "/b");
        var (a, b) = (atA.Str("endpoint_id"), atB.Str("endpoint_id"));

        // Where each change of an order is notified: the endpoint of every notification of it.
        async Task<string[]> NotifiedAtAsync(string order, string eventType) =>
            [.. (await merchant.NotificationsAsync($"entity_id={order}&event_type={eventType}")).Select(n => n!.Str("endpoint_id"))];

        // Orders of each, one after another, and each moved on: every change at its own preference's endpoint.
        var orders = new List<(string Order, string Endpoint)>();
        for (var i = 0; i < 2; i++)
        {
            orders.Add((await OrderAsync(merchant, atA), a));
            orders.Add((await OrderAsync(merchant, atB), b));
        }
        foreach (var (order, endpoint) in orders)
        {
            await merchant.MoveAsync("payment_orders", order, "CLOSED");
            Assert.Equal([endpoint], await NotifiedAtAsync(order, "PAYMENT_ORDER.OPENED"));
            Assert.Equal([endpoint], await NotifiedAtAsync(order, "PAYMENT_ORDER.CLOSED"));
        }

        // A's endpoint deleted, and another made at its URL: an order of the preference whose endpoint
        // was deleted is notified nowhere, not at the new one; the new preference's only at the new one.
        using (var delete = await merchant.DeleteAsync($"/v1/endpoints/{a}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        var againAtA = await PreferenceAsync(merchant, Receiver.Url + "/a");
        var a2 = againAtA.Str("endpoint_id");
        Assert.NotEqual(a, a2);
        var ofDeleted = await OrderAsync(merchant, atA);
        var ofNew = await OrderAsync(merchant, againAtA);
        var ofB = await OrderAsync(merchant, atB);
        Assert.Empty(await NotifiedAtAsync(ofDeleted, "PAYMENT_ORDER.OPENED"));
        Assert.Equal([a2], await NotifiedAtAsync(ofNew, "PAYMENT_ORDER.OPENED"));
        Assert.Equal([b], await NotifiedAtAsync(ofB, "PAYMENT_ORDER.OPENED"));
        var movedOn = new[] { (orders[0].Order, To: "REFUNDED", Notified: Array.Empty<string>()), (ofNew, "CLOSED", [a2]), (orders[1].Order, "REFUNDED", [b]) };
        foreach (var (order, to, notified) in movedOn)
        {
            await merchant.MoveAsync("payment_orders", order, to);
            Assert.Equal(notified, await NotifiedAtAsync(order, "PAYMENT_ORDER." + to));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PreferencesOfANewUrl_MadeAtOnce_MakeOneEndpoint(bool onTwoPostgresNodes)
    {
        await using var db = onTwoPostgresNodes ? await PostgresDatabase.CreateAsync() : null;
        await using var one = await HeraldHost.StartAsync(postgres: db?.ConnectionString);
        await using var two = onTwoPostgresNodes ? await HeraldHost.StartAsync(postgres: db!.ConnectionString) : null;
        using var merchant = await one.NewMerchantAsync();
        using var elsewhere = (two ?? one).As(merchant.DefaultRequestHeaders.Authorization!.Parameter!);

        var made = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => PreferenceAsync(i % 2 == 0 ? merchant : elsewhere, "https://merchant.example/orders")));
        Assert.Single(made.Select(p => p.Str("endpoint_id")).Distinct());
        Assert.Single(made.Select(p => p.Str("secret")).Distinct());
        Assert.Equal(made[0].Str("endpoint_id"), Assert.Single(await PreferenceEndpointsAsync(merchant))!.Str("id"));
        Assert.Equal(12, (await merchant.GetJsonAsync("/v1/checkout_preferences?limit=100"))["data"]!.AsArray().Count);
    }
}
