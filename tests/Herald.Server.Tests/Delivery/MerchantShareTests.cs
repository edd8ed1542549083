using System.Diagnostics;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

/// <summary>One merchant's slow receivers do not hold up the other merchants' deliveries.</summary>
public sealed class MerchantShareTests
{
    [Fact]
    public async Task AMerchantWhoseReceiverAnswersSlowly_TakesAQuarterOfTheNodesSlots_AndAnotherMerchantsDeliveryGoesAtOnce()
    {
        await using var slowReceiver = await TestReceiver.StartAsync();
        await using var quickReceiver = await TestReceiver.StartAsync();
        // Eight slots: a merchant's failing and slow endpoints share two of them.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 8);
        using var slow = await herald.NewMerchantAsync("Slow");
        using var other = await herald.NewMerchantAsync("Other");
        await slow.AddEndpointAsync(slowReceiver.Url, "thin");
        await other.AddEndpointAsync(quickReceiver.Url, "thin");
        // Answers 200, but after two and a half seconds, every time: seen to be slow at its first answer.
        slowReceiver.Delay = TimeSpan.FromSeconds(2.5);
        await slow.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await slow.NotificationsAsync("status=succeeded")).Count == 1, TimeSpan.FromSeconds(15));
        slowReceiver.ResetMaxInFlight();

        // More than the node's slots: without the share, every one of them would wait on the slow receiver.
        const int orders = 9;
        for (var i = 0; i < orders; i++)
        {
            await slow.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await slowReceiver.WaitForAsync(1 + 2);

        // The slow merchant's attempts hold two slots, not all eight: the other merchant's change is sent now.
        var sent = Stopwatch.StartNew();
        await other.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        await quickReceiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(2), $"the other merchant's notification took {sent.Elapsed.TotalSeconds:0.0} s");
        Assert.True(slowReceiver.MaxInFlight <= 2, $"the slow receiver had {slowReceiver.MaxInFlight} requests open at once");

        // What was held back comes back, two at a time, and everything reaches the slow receiver once
        // (the clock moving at about the pace of real time: what waits in memory for the receiver's
        // attempts, which take real seconds, is not left to outlive its lease).
        await herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await slow.NotificationsAsync("status=succeeded&limit=100")).Count == 1 + orders, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        Assert.Equal(1 + orders, slowReceiver.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(1 + orders, slowReceiver.Received.Count);
        Assert.True(slowReceiver.MaxInFlight <= 2, $"the slow receiver had {slowReceiver.MaxInFlight} requests open at once");
    }

    [Fact]
    public async Task AHealthyEndpointWhoseReceiverStartsToHang_TakesItsMerchantsShareOnceNothingEndsForTwoSeconds_AndAnotherMerchantsDeliveryGoesAtOnce()
    {
        await using var hanging = await TestReceiver.StartAsync();
        await using var quickReceiver = await TestReceiver.StartAsync();
        // Eight slots: a merchant's endpoints not known to be healthy share two of them.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 8);
        using var stalled = await herald.NewMerchantAsync("Stalled");
        using var other = await herald.NewMerchantAsync("Other");
        await stalled.AddEndpointAsync(hanging.Url, "thin", new { timeout_seconds = 30 });
        await other.AddEndpointAsync(quickReceiver.Url, "thin");
        // Healthy: it answers at once.
        await stalled.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await stalled.NotificationsAsync("status=succeeded")).Count == 1);

        // Then its receiver takes the connections and answers none, until the timeout: three
        // attempts under way, and two seconds without one of them ending.
        hanging.Hold();
        for (var i = 0; i < 3; i++)
        {
            await stalled.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await hanging.WaitForAsync(1 + 3);
        herald.Clock.Advance(TimeSpan.FromSeconds(2));

        // A burst of the merchant's changes: the slots left would all wait on the hanging receiver
        // for 30 s. Its attempts under way hold the merchant's share, so the burst waits its turn
        // and the other merchant's change is sent now.
        const int burst = 10;
        for (var i = 0; i < burst; i++)
        {
            await stalled.PostJsonAsync("/v1/payment_orders", new { amount = 20 + i, currency = "BRL" });
        }
        var sent = Stopwatch.StartNew();
        await other.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        await quickReceiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(5), $"the other merchant's notification took {sent.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(1 + 3, hanging.Received.Count);

        // The receiver answers again: everything reaches it, once.
        hanging.Release();
        await herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await stalled.NotificationsAsync("status=succeeded&limit=100")).Count == 1 + 3 + burst, TimeSpan.FromSeconds(45));
        Assert.Equal(1 + 3 + burst, hanging.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(1 + 3 + burst, hanging.Received.Count);
    }

    [Fact]
    public async Task ABurstToANewEndpointWhoseReceiverHangs_TakesItsMerchantsShare_AndAnotherMerchantsDeliveryGoesAtOnce()
    {
        await using var hanging = await TestReceiver.StartAsync();
        await using var quickReceiver = await TestReceiver.StartAsync();
        // Eight slots: an endpoint not yet seen to answer has two of them at once.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 8);
        using var bursting = await herald.NewMerchantAsync("Bursting");
        using var other = await herald.NewMerchantAsync("Other");
        await bursting.AddEndpointAsync(hanging.Url, "thin", new { timeout_seconds = 30 });
        await other.AddEndpointAsync(quickReceiver.Url, "thin");

        // A receiver that takes the connections and answers none, sent a burst before anything
        // tells it apart from a quick one: without a bound, every slot would wait on it for 30 s.
        hanging.Hold();
        const int burst = 12;
        for (var i = 0; i < burst; i++)
        {
            await bursting.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await hanging.WaitForAsync(2);

        var sent = Stopwatch.StartNew();
        await other.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        await quickReceiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(5), $"the other merchant's notification took {sent.Elapsed.TotalSeconds:0.0} s");
        Assert.True(hanging.MaxInFlight <= 2, $"the hanging receiver had {hanging.MaxInFlight} requests open at once");

        // It answers again: the rest goes, wider as its answers come, and each reaches it once.
        hanging.Release();
        await herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await bursting.NotificationsAsync("status=succeeded&limit=100")).Count == burst, TimeSpan.FromSeconds(45));
        Assert.Equal(burst, hanging.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(burst, hanging.Received.Count);
    }

    [Fact]
    public async Task ABurstToAReceiverThatAnswers_WidensPastItsMerchantsShare_AsTheAnswersCome()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 8);
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "thin");

        // The burst, its receiver holding the first requests: two of them at once (its window,
        // the merchant's share of eight slots), though six slots are free.
        receiver.Hold();
        const int burst = 20;
        for (var i = 0; i < burst; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await receiver.WaitForAsync(2);
        await Task.Delay(200);
        Assert.Equal(2, receiver.MaxInFlight);

        // It answers, after a fifth of a second each time: one more at once with each answer, up
        // to the node's slots. What its window sent back to the queue comes back about when a
        // place frees (the clock moving a tenth of a second at a time).
        receiver.Delay = TimeSpan.FromMilliseconds(200);
        receiver.Release();
        await herald.AdvanceUntilAsync(TimeSpan.Zero, () => Task.FromResult(receiver.Received.Count >= burst), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.True(receiver.MaxInFlight > 2, $"the receiver had at most {receiver.MaxInFlight} requests open at once");
        Assert.True(receiver.MaxInFlight <= 8, $"the receiver had {receiver.MaxInFlight} requests open at once");
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count == burst);
        Assert.Equal(burst, receiver.Received.Count);
    }
}
