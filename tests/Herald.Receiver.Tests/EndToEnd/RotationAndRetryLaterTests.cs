using System.Collections.Concurrent;
using Herald.Receiver.Events;
using Herald.Receiver.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Receiver.Tests.EndToEnd;

/// <summary>A real Herald and a merchant app on the kit: a secret's rotation, a handler asking for time, the client from the app's services.</summary>
public sealed class RotationAndRetryLaterTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;

    public async Task InitializeAsync() => _herald = await HeraldHost.StartAsync();

    public Task DisposeAsync() => _herald.DisposeAsync().AsTask();

    [Fact]
    public async Task DuringARotationsGrace_AReceiverWithTheOldSecretOrTheNewOneVerifies_AndAfterItOnlyTheNewOne()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var runs = new ConcurrentQueue<string>();
        var options = new HeraldWebhookOptions { TimeProvider = _herald.Clock };
        await using var app = await ReceiverApp.StartAsync(options, (e, _) => { runs.Enqueue(((TransactionEvent)e).InternalId); return Task.CompletedTask; });
        var (endpoint, oldSecret) = await merchant.AddEndpointAsync(app.BaseUrl + "/webhooks", "transaction", new { retry = "exponential" });
        options.Secrets.Add(oldSecret);
        var rotated = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 3600 }, 200);
        var newSecret = rotated.Str("secret");

        // The old secret alone: Herald signs with both, so it still verifies.
        var first = await merchant.NewTransactionAsync();
        await HeraldHost.EventuallyAsync(() => Task.FromResult(runs.Contains(first)));

        // The new one alone.
        options.Secrets.Clear();
        options.Secrets.Add(newSecret);
        var second = await merchant.NewTransactionAsync();
        await HeraldHost.EventuallyAsync(() => Task.FromResult(runs.Contains(second)));

        // The grace over: the old secret alone no longer verifies, and the receiver says why.
        options.Secrets.Clear();
        options.Secrets.Add(oldSecret);
        _herald.Clock.Advance(TimeSpan.FromHours(2));
        var third = await merchant.NewTransactionAsync();
        var refused = await merchant.WaitForAttemptsAsync(third, "TRANSACTION.INIT", 1);
        var attempt = refused["attempts"]!.AsArray()[0]!;
        Assert.Equal(401, attempt["status_code"]!.GetValue<int>());
        Assert.Equal("invalid signature or timestamp: no signature matches the configured secrets", attempt["response_excerpt"]!.GetValue<string>());
        Assert.DoesNotContain(third, runs);
    }

    [Fact]
    public async Task AHandlerAskingForTime_Gets503WithRetryAfter_AndHeraldsNextTryRunsItAgain()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var runs = 0;
        var options = new HeraldWebhookOptions { TimeProvider = _herald.Clock };
        await using var app = await ReceiverApp.StartAsync(options, (_, _) =>
            Interlocked.Increment(ref runs) == 1 ? throw new HeraldRetryLaterException(TimeSpan.FromSeconds(8)) : Task.CompletedTask);
        var (_, secret) = await merchant.AddEndpointAsync(app.BaseUrl + "/webhooks", "transaction", new { retry = "exponential" });
        options.Secrets.Add(secret);

        var tx = await merchant.NewTransactionAsync();
        var waiting = await merchant.WaitForAttemptsAsync(tx, "TRANSACTION.INIT", 1);
        var first = waiting["attempts"]!.AsArray()[0]!;
        Assert.Equal(503, first["status_code"]!.GetValue<int>());
        Assert.Equal("the handler asked Herald to retry in 8 s", first["response_excerpt"]!.GetValue<string>());
        // Exponential's second try is due 5 s on; asked for 8 s, Herald waits 8 (at most twice its delay).
        var wait = DateTimeOffset.Parse(waiting["next_attempt_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(first["started_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(wait, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(10));

        await _herald.AdvanceUntilAsync(TimeSpan.FromSeconds(8), async () =>
            (await merchant.NotificationOfAsync(tx, "TRANSACTION.INIT"))["status"]!.GetValue<string>() == "succeeded");
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task ThinEvents_CarryTheOrder_FetchedWithTheClientAddHeraldClientRegistered()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        var orders = new ConcurrentQueue<PaymentOrderEvent>();
        var options = new HeraldWebhookOptions { TimeProvider = _herald.Clock };
        await using var app = await ReceiverApp.StartAsync(
            a => a.MapHeraldWebhooks("/webhooks", options, (e, _) => { orders.Enqueue((PaymentOrderEvent)e); return Task.CompletedTask; }),
            services: s => s.AddHeraldClient(o =>
            {
                o.Url = _herald.Client.BaseAddress!.AbsoluteUri;
                o.ApiKey = key;
            }));
        var (_, secret) = await merchant.AddEndpointAsync(app.BaseUrl + "/webhooks", "thin");
        options.Secrets.Add(secret);

        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 12.50m, currency = "BRL" });
        await merchant.MoveAsync("payment_orders", order.Str("id"), "CLOSED");

        await HeraldHost.EventuallyAsync(() => Task.FromResult(orders.Count == 2));
        Assert.All(orders, o =>
        {
            Assert.Equal(order.Str("id"), o.PaymentOrder!.Id);
            Assert.Equal(12.50m, o.PaymentOrder.Amount);
        });
    }
}
