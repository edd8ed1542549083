using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class ResendTests : HeraldWithReceiver
{
    [Fact]
    public async Task Resend_OfSucceededNotification_DeliversAgainWithSameWebhookIdAndRecordsManualAttempt()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (_, secret) = await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        var id = await merchant.NewTransactionAsync();
        var first = await Receiver.WaitForAsync(1);
        Assert.Equal("1", first.Headers["webhook-attempt"]);
        Assert.True(Verifies(secret, first), "the first delivery does not verify with the endpoint's secret");
        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        Assert.Equal("succeeded", n.Str("status"));
        // The webhook-id the receiver saw finds the notification.
        Assert.Equal(n.Str("id"), Assert.Single(await merchant.NotificationsAsync($"event_id={first.Headers["webhook-id"]}"))!.Str("id"));

        Herald.Clock.Advance(TimeSpan.FromMinutes(10));
        var accepted = await merchant.PostJsonAsync($"/v1/notifications/{n.Str("id")}/resend", new { }, 202);
        Assert.Equal(n.Str("id"), accepted.Str("id"));

        var again = await Receiver.WaitForAsync(2);
        Assert.Equal(first.Headers["webhook-id"], again.Headers["webhook-id"]);
        Assert.Equal(first.Body, again.Body);
        // Signed afresh: a new timestamp, so a new signature, which verifies with the endpoint's secret.
        Assert.NotEqual(first.Headers["webhook-timestamp"], again.Headers["webhook-timestamp"]);
        Assert.Equal(Herald.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), again.Headers["webhook-timestamp"]);
        Assert.NotEqual(first.Headers["webhook-signature"], again.Headers["webhook-signature"]);
        Assert.True(Verifies(secret, again), "the resend does not verify with the endpoint's secret");
        // The notification's attempts so far plus one.
        Assert.Equal("2", again.Headers["webhook-attempt"]);

        n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 2);
        var attempts = n["attempts"]!.AsArray();
        Assert.Equal("schedule", attempts[0]!.Str("trigger"));
        Assert.Equal("manual", attempts[1]!.Str("trigger"));
        Assert.Equal("succeeded", n.Str("status"));
        // When it first reached the endpoint stays: the resend's success is its own attempt's.
        Assert.Equal(attempts[0]!.Str("started_at"), n.Str("succeeded_at"));
        Assert.NotEqual(attempts[1]!.Str("started_at"), n.Str("succeeded_at"));
    }

    private bool Verifies(string secret, ReceivedRequest r) => global::Herald.Signing.WebhookSignature.Verify(secret, r.Headers["webhook-id"],
        r.Headers["webhook-timestamp"], r.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(r.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(15));

    [Fact]
    public async Task Resend_WhenItsEndpointWasDeleted_Is409_AndNothingIsSent()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        var id = await merchant.NewTransactionAsync();
        await Receiver.WaitForAsync(1);
        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/endpoints/{endpoint}")).StatusCode);

        var refused = await merchant.PostJsonAsync($"/v1/notifications/{n.Str("id")}/resend", new { }, 409);
        Assert.Contains("endpoint was deleted", refused["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.Single(Receiver.Received);
        Assert.Equal(1, (await merchant.NotificationAsync(n.Str("id")))["attempt_count"]!.GetValue<int>());
        await merchant.PostJsonAsync("/v1/notifications/ntf_unknown/resend", new { }, 404);
    }

    [Fact]
    public async Task Resends_PastAFullQueue_Are503AtOnce_AndChangeNothing()
    {
        // Herald stops first (disposal runs in reverse), cancelling the resends the receiver holds.
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.ResendQueueCapacity = 2);
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
        receiver.Status = 500;
        // Four: fewer failures than the five that open the circuit, which would hold the rest back
        // until the clock moves.
        for (var i = 0; i < 4; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        // Each tried once and failed; the clock stands still, so no retry comes.
        await HeraldHost.EventuallyAsync(async () =>
            (await merchant.NotificationsAsync("limit=100")).Count(n => n!["attempt_count"]!.GetValue<int>() == 1) == 4);
        var ids = (await merchant.NotificationsAsync("limit=100")).Select(n => n!.Str("id")).ToList();

        // The receiver now holds every request: the two resends taken are being sent (they count
        // against the queue's size until they are answered); past those the queue is full.
        receiver.Delay = TimeSpan.FromSeconds(30);
        var statuses = new List<System.Net.HttpStatusCode>();
        string? refusedId = null;
        foreach (var id in ids)
        {
            using var response = await merchant.PostAsJsonAsync($"/v1/notifications/{id}/resend", new { });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                var error = await response.Content.ReadFromJsonAsync<JsonObject>();
                Assert.Equal(503, error!["statusCode"]!.GetValue<int>());
                Assert.Contains("2 resends are waiting already", error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
                refusedId ??= id;
            }
        }
        Assert.Equal(2, statuses.Count(s => s == System.Net.HttpStatusCode.Accepted));
        Assert.All(statuses, s => Assert.True(s is System.Net.HttpStatusCode.Accepted or System.Net.HttpStatusCode.ServiceUnavailable, s.ToString()));
        Assert.NotNull(refusedId);
        // Refused at once, and nothing queued for it: it keeps its one attempt.
        var refused = await merchant.NotificationAsync(refusedId!);
        Assert.Equal(1, refused["attempt_count"]!.GetValue<int>());

        // Recovering the endpoint's failed notifications finds the queue full too: 503, nothing queued.
        using var recover = await merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = "2026-01-01" });
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, recover.StatusCode);
    }

    [Fact]
    public async Task Resends_HeldBackByOneEndpointsRateLimit_DoNotHoldUpAnotherMerchants()
    {
        await using var limited = await TestReceiver.StartAsync();
        await using var other = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync();
        using var first = await herald.NewMerchantAsync("First");
        using var second = await herald.NewMerchantAsync("Second");
        var (endpoint, _) = await first.AddEndpointAsync(limited.Url, "thin");
        for (var i = 0; i < 20; i++)
        {
            await first.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await limited.WaitForAsync(20);
        await second.AddEndpointAsync(other.Url, "thin");
        await second.PostJsonAsync("/v1/payment_orders", new { amount = 99, currency = "BRL" });
        await other.WaitForAsync(1);

        // From now on the first merchant's endpoint takes one request a second: twenty resends for
        // it are more than the queue sends at once (eight).
        using (var patched = await first.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { rate_limit = 1 }))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, patched.StatusCode);
        }
        foreach (var n in await first.NotificationsAsync("limit=100"))
        {
            await first.PostJsonAsync($"/v1/notifications/{n!.Str("id")}/resend", new { }, 202);
        }
        var theirs = (await second.NotificationsAsync("limit=100")).Single()!.Str("id");
        await second.PostJsonAsync($"/v1/notifications/{theirs}/resend", new { }, 202);

        // The other merchant's resend goes out at once, not behind the first one's rate limit (it
        // came some 13 s later while the held-back resends kept the queue's eight slots waiting).
        await other.WaitForAsync(2, TimeSpan.FromSeconds(3));
        Assert.True(limited.Received.Count <= 20 + 4, $"{limited.Received.Count - 20} resends went out past a limit of one a second");
        // The held-back resends come back to the queue and go out, one a second.
        await limited.WaitForAsync(20 + 4, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task OneMerchantsResends_TakeOnlyItsShareOfTheQueue_AndAnothersAreStillTaken()
    {
        // Herald stops first (disposal runs in reverse), cancelling the resends the receiver holds.
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => { o.ResendQueueCapacity = 10; o.ResendsPerMerchant = 2; });
        using var busy = await herald.NewMerchantAsync("Busy");
        using var other = await herald.NewMerchantAsync("Other");
        await busy.AddEndpointAsync(receiver.Url + "/busy", "thin");
        await other.AddEndpointAsync(receiver.Url + "/other", "thin");
        for (var i = 0; i < 3; i++)
        {
            await busy.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await other.PostJsonAsync("/v1/payment_orders", new { amount = 20, currency = "BRL" });
        await receiver.WaitForAsync(4);

        // The receiver now holds every request: resends taken stay waiting until answered.
        receiver.Delay = TimeSpan.FromSeconds(30);
        var ids = (await busy.NotificationsAsync("limit=100")).Select(n => n!.Str("id")).ToList();
        await busy.PostJsonAsync($"/v1/notifications/{ids[0]}/resend", new { }, 202);
        await busy.PostJsonAsync($"/v1/notifications/{ids[1]}/resend", new { }, 202);
        using var refused = await busy.PostAsJsonAsync($"/v1/notifications/{ids[2]}/resend", new { });
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("2 of this merchant's resends are waiting already (the most one merchant may have waiting, so others' resends are not held up); try again once they have gone out",
            (await refused.Content.ReadFromJsonAsync<JsonObject>())!["message"]![0]!.GetValue<string>());
        // The queue has room for the others.
        var otherId = Assert.Single(await other.NotificationsAsync(""))!.Str("id");
        await other.PostJsonAsync($"/v1/notifications/{otherId}/resend", new { }, 202);
    }

    [Fact]
    public async Task Resends_HeldBackThenSent_GiveTheirRoomInTheQueueBack()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(tune: o => o.ResendQueueCapacity = 3);
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await receiver.WaitForAsync(3);
        using (var patched = await merchant.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { rate_limit = 1 }))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, patched.StatusCode);
        }
        var ids = (await merchant.NotificationsAsync("limit=100")).Select(n => n!.Str("id")).ToList();

        // Three fill the queue: one being sent (the receiver holds it), two held back by the
        // endpoint's limit, which still count.
        receiver.Hold();
        foreach (var id in ids)
        {
            await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        }
        await merchant.PostJsonAsync($"/v1/notifications/{ids[0]}/resend", new { }, 503);
        receiver.Release();
        await receiver.WaitForAsync(6);

        // Once they have gone out (each counts until its attempt is recorded), the whole room is
        // there again: all three are taken (a place kept by one of them would refuse the third).
        foreach (var id in ids)
        {
            await HeraldHost.EventuallyAsync(async () =>
            {
                using var response = await merchant.PostAsJsonAsync($"/v1/notifications/{id}/resend", new { });
                return response.StatusCode == System.Net.HttpStatusCode.Accepted;
            });
        }
        await receiver.WaitForAsync(9);
    }

    [Fact]
    public async Task Resend_OfDeadNotification_DeliversAgainAndMarksItSucceeded()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 500;
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var id = order.Str("id");
        await Receiver.WaitForAsync(1);
        // Let the exponential schedule run out (3 days).
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () =>
        {
            Herald.Clock.Advance(TimeSpan.FromHours(1));
            var list = await merchant.NotificationsAsync($"entity_id={id}");
            return list[0]!.Str("status") == "dead";
        }, TimeSpan.FromSeconds(60));

        Receiver.Status = 200;
        var before = Receiver.Received.Count;
        var n = (await merchant.NotificationsAsync($"entity_id={id}"))[0]!;
        await merchant.PostJsonAsync($"/v1/notifications/{n.Str("id")}/resend", new { }, 202);
        await Receiver.WaitForAsync(before + 1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n.Str("id"))).Str("status") == "succeeded");
        var detail = await merchant.NotificationAsync(n.Str("id"));
        Assert.Equal("manual", detail["attempts"]!.AsArray().Last()!.Str("trigger"));
    }

    [Fact]
    public async Task Resend_OfUnknownNotification_Is404()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var error = await merchant.PostJsonAsync("/v1/notifications/ntf_nope/resend", new { }, 404);
        Assert.Equal(404, error["statusCode"]!.GetValue<int>());
    }
}
