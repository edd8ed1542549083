using System.Net;
using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

/// <summary>What the retention (30 days by default) takes once it has passed, and what it leaves.</summary>
public sealed class RetentionTests : HeraldWithReceiver
{
    [Fact]
    public async Task PastTheRetention_DeliveredNotificationsAndEarlierEventsGo_TheEntityItsLatestEventAndItsIdempotencyKeyStay()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        async Task<HttpStatusCode> CloseAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/payment_orders/{order}/transitions") { Content = JsonContent.Create(new { to = "CLOSED" }) };
            request.Headers.Add("Idempotency-Key", "close-1");
            using var response = await merchant.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await CloseAsync());
        // One never delivered: its notifications wait, and so do their events, the earlier one too.
        using var other = await Herald.NewMerchantAsync("Paused");
        var (paused, _) = await other.AddEndpointAsync(Receiver.Url, "thin");
        await other.PostJsonAsync($"/v1/endpoints/{paused}/pause", new { }, 200);
        var waiting = (await other.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        await other.MoveAsync("payment_orders", waiting, "CLOSED");
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded")).Count == 2);

        await Herald.AdvanceUntilAsync(TimeSpan.FromDays(31), async () => (await merchant.NotificationsAsync("limit=10")).Count == 0);

        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/events?entity_id={order}"))["data"]!.AsArray().Count == 1);
        var kept = (await merchant.GetJsonAsync($"/v1/events?entity_id={order}"))["data"]!.AsArray()[0];
        Assert.Equal("PAYMENT_ORDER.CLOSED", kept.Str("type"));
        Assert.Equal("CLOSED", (await merchant.GetJsonAsync($"/v1/payment_orders/{order}")).Str("status"));
        // The key still names the event it made: the retried request is answered as before.
        Assert.Equal(HttpStatusCode.OK, await CloseAsync());
        Assert.Single((await merchant.GetJsonAsync($"/v1/events?entity_id={order}"))["data"]!.AsArray());
        // The paused endpoint's notifications are pending whatever their age, with their events and payloads.
        var pending = await other.NotificationsAsync($"entity_id={waiting}");
        Assert.Equal(2, pending.Count);
        foreach (var n in pending)
        {
            Assert.Equal("pending", n.Str("status"));
            Assert.Equal(waiting, (await other.NotificationAsync(n.Str("id")))["payload"].Str("entity_id"));
        }
        Assert.Equal(2, (await other.GetJsonAsync($"/v1/events?entity_id={waiting}"))["data"]!.AsArray().Count);
    }
}
