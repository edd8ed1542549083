using System.Collections.Concurrent;
using Herald.Receiver.Events;
using Herald.Receiver.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Receiver.Tests.EndToEnd;

/// <summary>A real Herald delivering to a merchant app built on the receiver kit.</summary>
public sealed class HeraldToReceiverTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;

    public async Task InitializeAsync() => _herald = await HeraldHost.StartAsync();

    public Task DisposeAsync() => _herald.DisposeAsync().AsTask();

    [Fact]
    public async Task AllThreeFormats_ArriveAsTypedEvents_AndThinOnesCarryTheFetchedOrder()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        var events = new ConcurrentQueue<HeraldEvent>();
        var options = new HeraldWebhookOptions
        {
            // The merchant app checks signatures against the fake clock Herald signs with.
            TimeProvider = _herald.Clock,
            Client = new HeraldClient(new HttpClient { BaseAddress = _herald.Client.BaseAddress }, key),
        };
        await using var app = await ReceiverApp.StartAsync(options, (e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        foreach (var format in new[] { "transaction", "thin", "point" })
        {
            var (_, secret) = await merchant.AddEndpointAsync(app.BaseUrl + "/webhooks", format);
            options.Secrets.Add(secret);
        }

        var tx = await merchant.NewTransactionAsync();
        await merchant.MoveAsync("transactions", tx, "COMPLETED");
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 25, currency = "ARS" });
        await merchant.MoveAsync("payment_orders", order.Str("id"), "CLOSED");
        var intent = await merchant.PostJsonAsync("/v1/payment_intents", new { amount = 100, site = "mlb", client_id = 1, caller_id = 2 });
        await merchant.MoveAsync("payment_intents", intent.Str("id"), "CANCELED");

        // transaction INIT + COMPLETED, order OPENED + CLOSED, intent CANCELED.
        await HeraldHost.EventuallyAsync(() => Task.FromResult(events.Count >= 5));
        var transactions = events.OfType<TransactionEvent>().ToList();
        Assert.Equal(["COMPLETED", "INIT"], transactions.Select(t => t.Status).Order());
        Assert.All(transactions, t => Assert.Equal(tx, t.InternalId));
        Assert.Equal(130m, transactions[0].PaymentAmount);
        Assert.All(transactions, t => Assert.Equal("London", t.Transaction.ShippingAddress?.City));

        var orders = events.OfType<PaymentOrderEvent>().ToList();
        Assert.Equal(["PAYMENT_ORDER.CLOSED", "PAYMENT_ORDER.OPENED"], orders.Select(o => o.EventType).Order());
        Assert.All(orders, o =>
        {
            Assert.Equal(order.Str("id"), o.OrderId);
            Assert.Equal(o.WebhookId, o.Payload.Str("id"));
            Assert.NotNull(o.Order);
            Assert.Equal(order.Str("id"), o.Order!.Str("id"));
            Assert.Equal((25m, o.Order.Str("status")), (o.PaymentOrder!.Amount, o.PaymentOrder.Status));
        });

        var intentEvent = Assert.Single(events.OfType<PaymentIntentEvent>());
        Assert.Equal("CANCELED", intentEvent.State);
        Assert.Null(intentEvent.Payment);
        Assert.Equal((2L, 1L), (intentEvent.Intent.CallerId, intentEvent.Intent.ClientId));
        Assert.Equal(TimeSpan.Zero, intentEvent.Intent.CreatedAt.Offset);
        Assert.All(events, e => Assert.Equal(1, e.Attempt));

        // Herald saw 200 for all of them.
        await HeraldHost.EventuallyAsync(async () =>
            (await merchant.NotificationsAsync("status=succeeded")).Count == 5);
    }

    [Fact]
    public async Task ResendOfAHandledNotification_IsAcknowledgedWithoutRunningTheHandlerAgain()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var runs = 0;
        var options = new HeraldWebhookOptions { TimeProvider = _herald.Clock };
        await using var app = await ReceiverApp.StartAsync(options, (_, _) => { Interlocked.Increment(ref runs); return Task.CompletedTask; });
        var (_, secret) = await merchant.AddEndpointAsync(app.BaseUrl + "/webhooks", "transaction");
        options.Secrets.Add(secret);
        var tx = await merchant.NewTransactionAsync();
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded")).Count == 1);

        var id = (await merchant.NotificationsAsync($"entity_id={tx}"))[0]!.Str("id");
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(id))["attempt_count"]!.GetValue<int>() == 2);
        var detail = await merchant.NotificationAsync(id);
        Assert.All(detail["attempts"]!.AsArray(), a => Assert.Equal(200, a!["status_code"]!.GetValue<int>()));
        Assert.Equal(1, runs);
    }
}
