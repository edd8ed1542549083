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

        // What was held back comes back, two at a time, and everything reaches the slow receiver once.
        await herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await slow.NotificationsAsync("status=succeeded&limit=100")).Count == 1 + orders, TimeSpan.FromSeconds(45));
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
    public async Task ABurstToAHealthyEndpointWhoseReceiverNowHangs_TakesItsMerchantsShare_AndAnotherMerchantsDeliveryGoesWhileItHangs()
    {
        await using var hanging = await TestReceiver.StartAsync();
        await using var quickReceiver = await TestReceiver.StartAsync();
        // A node of 64 slots: a merchant's endpoints not known to be healthy share 16 of them.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 64);
        using var bursting = await herald.NewMerchantAsync("Bursting");
        using var other = await herald.NewMerchantAsync("Other");
        var (endpoint, _) = await bursting.AddEndpointAsync(hanging.Url, "thin", new { timeout_seconds = 30 });
        await other.AddEndpointAsync(quickReceiver.Url, "thin");
        // Healthy: it answers at once, one attempt at a time.
        await bursting.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await bursting.NotificationsAsync("status=succeeded")).Count == 1);

        // A burst: 150 notifications waiting for the endpoint, all due at once when it is resumed,
        // and its receiver now takes the connections and answers none.
        const int burst = 150;
        await BurstAsync(herald, bursting, endpoint, burst, hanging.Hold);

        // It gets the one attempt at a time it has shown it answers, and its merchant's share beside
        // it: 17 of the 64 slots, not all of them, until one of its attempts ends.
        await hanging.WaitForAsync(1 + 1 + 16);

        // What more of the burst the node holds waits in memory for the endpoint's first answer, for 2 s at most:
        // then the endpoint is stalled, the burst goes back to the queue, and the other merchant's change is sent
        // while the receiver still hangs.
        await other.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        herald.Clock.Advance(TimeSpan.FromSeconds(2));
        await quickReceiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(1 + 1 + 16, hanging.Received.Count);

        // The receiver answers again: everything reaches it, once.
        hanging.Release();
        await herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => await SucceededAsync(bursting) == 1 + burst, TimeSpan.FromSeconds(60));
        Assert.Equal(1 + burst, hanging.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(1 + burst, hanging.Received.Count);
    }

    [Fact]
    public async Task ABurstToAQuickEndpoint_IsDeliveredAtOnce_OnEverySlotItReaches_NoneOfItHeldBack()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 64);
        using var merchant = await herald.NewMerchantAsync();
        // A new endpoint: nothing on this node has shown how many attempts at once it answers.
        var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
        receiver.Delay = TimeSpan.FromMilliseconds(300);
        const int burst = 150;
        await BurstAsync(herald, merchant, endpoint, burst);
        var resumedAt = herald.Clock.GetUtcNow();

        // The clock stands still: work handed back to the queue for a later turn could never come
        // due, so everything arriving shows nothing of the burst was held back; each was sent once.
        await HeraldHost.EventuallyAsync(async () => await SucceededAsync(merchant) == burst, TimeSpan.FromSeconds(30));
        var notifications = await AllAsync(merchant, "status=succeeded");
        Assert.All(notifications, n =>
        {
            Assert.Equal(1, n["attempt_count"]!.GetValue<int>());
            Assert.Equal(resumedAt, DateTimeOffset.Parse(n.Str("succeeded_at"), System.Globalization.CultureInfo.InvariantCulture));
        });
        Assert.Equal(burst, receiver.Received.Count);
        // Past its merchant's share: once its first attempts answered, the rest of the slots were its too.
        Assert.True(receiver.MaxInFlight > 16, $"the receiver had at most {receiver.MaxInFlight} requests open at once");
    }

    [Fact]
    public async Task ANewEndpointOfAMerchantWhoseShareIsTakenByAHangingReceiver_GetsItsFirstAttemptAtOnce()
    {
        await using var hanging = await TestReceiver.StartAsync();
        await using var quickReceiver = await TestReceiver.StartAsync();
        // Eight slots: a merchant's endpoints not known to be healthy share two of them.
        await using var herald = await HeraldHost.StartAsync(tune: o => o.Concurrency = 8);
        using var merchant = await herald.NewMerchantAsync("Mixed");
        await merchant.AddEndpointAsync(hanging.Url, "thin", new { timeout_seconds = 30 });
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded")).Count == 1);

        // Its receiver now takes the connections and answers none: its attempts fill the merchant's share.
        hanging.Hold();
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await hanging.WaitForAsync(1 + 3);

        // A second endpoint, never sent to: its first attempt is not held for the hanging one's timeout.
        await merchant.AddEndpointAsync(quickReceiver.Url, "thin");
        var sent = Stopwatch.StartNew();
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        await quickReceiver.WaitForAsync(1, TimeSpan.FromSeconds(10));
        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(2), $"the new endpoint's notification took {sent.Elapsed.TotalSeconds:0.0} s");
        hanging.Release();
    }

    /// <summary>
    /// Records <paramref name="count"/> changes for the paused endpoint, then resumes it and lets the
    /// node see it resumed: its notifications all fall due at once. <paramref name="beforeResume"/> runs just before.
    /// </summary>
    private static async Task BurstAsync(HeraldHost herald, HttpClient merchant, string endpoint, int count, Action? beforeResume = null)
    {
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        for (var i = 0; i < count; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 100 + i, currency = "BRL" });
        }
        beforeResume?.Invoke();
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/resume", new { }, 200);
        herald.Clock.Advance(TimeSpan.FromSeconds(1));
    }

    private static async Task<int> SucceededAsync(HttpClient merchant) => (await AllAsync(merchant, "status=succeeded")).Count;

    /// <summary>Every notification of the merchant's the query lists, a page of 100 at a time.</summary>
    private static async Task<List<System.Text.Json.Nodes.JsonObject>> AllAsync(HttpClient merchant, string query)
    {
        var all = new List<System.Text.Json.Nodes.JsonObject>();
        string? after = null;
        while (true)
        {
            var page = await merchant.GetJsonAsync($"/v1/notifications?{query}&limit=100" + (after is null ? "" : "&starting_after=" + after));
            var data = page["data"]!.AsArray().Select(n => n!.AsObject()).ToList();
            all.AddRange(data);
            if (!page["has_more"]!.GetValue<bool>() || data.Count == 0)
            {
                return all;
            }
            after = data[^1].Str("id");
        }
    }
}
