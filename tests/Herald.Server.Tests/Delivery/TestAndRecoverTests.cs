using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class TestAndRecoverTests : HeraldWithReceiver
{
    [Fact]
    public async Task Test_OfAnEndpoint_SendsASignedTestNotification_AndAnswersWithTheReceiversReply()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, secret) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 503;

        var result = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);

        Assert.False(result["succeeded"]!.GetValue<bool>());
        Assert.Equal(503, result["status_code"]!.GetValue<int>());
        Assert.Equal("answer 503", result.Str("response_excerpt"));
        var received = await Receiver.WaitForAsync(1);
        Assert.Contains("\"event_type\":\"HERALD.TEST\"", received.Body, StringComparison.Ordinal);
        Assert.Equal("1", received.Headers["webhook-test"]);
        Assert.StartsWith("evt_test_", received.Headers["webhook-id"], StringComparison.Ordinal);
        Assert.StartsWith("v1,", received.Headers["webhook-signature"], StringComparison.Ordinal);
        Assert.True(global::Herald.Signing.WebhookSignature.Verify(secret, received.Headers["webhook-id"], received.Headers["webhook-timestamp"],
            received.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(received.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)),
            "the test notification does not verify with the endpoint's secret");
        // Its body names itself by the signed id, and the endpoint it tests.
        var body = System.Text.Json.Nodes.JsonNode.Parse(received.Body)!;
        Assert.Equal(received.Headers["webhook-id"], body.Str("id"));
        Assert.Equal(id, body.Str("endpoint_id"));
        Assert.True(body["test"]!.GetValue<bool>());
        // Its time is written as every time Herald gives: to the millisecond, in UTC.
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body.Str("sent_at"));
        // Nothing traces here: no traceparent, not even the unsampled one of the API request that asked.
        Assert.False(received.Headers.ContainsKey("traceparent"), received.Headers.GetValueOrDefault("traceparent"));
        // Nothing recorded: the log stays empty.
        Assert.Empty(await merchant.NotificationsAsync(""));
    }

    [Fact]
    public async Task Test_WithAnEventType_SendsThatTypesExampleInTheEndpointsFormat_SignedUnderAnIdOfItsOwn_RecordingNothing()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, secret) = await merchant.AddEndpointAsync(Receiver.Url, "transaction");

        // DECLINED is taken for seed 003's DECINED.
        var result = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { event_type = "TRANSACTION.DECLINED" }, 200);

        Assert.True(result["succeeded"]!.GetValue<bool>());
        var received = await Receiver.WaitForAsync(1);
        var body = System.Text.Json.Nodes.JsonNode.Parse(received.Body)!;
        // The body the event type's example shows (GET /v1/event_types/{type}), as every delivery of it looks.
        var example = (await merchant.GetJsonAsync("/v1/event_types/TRANSACTION.DECINED"))["example"]!;
        Assert.Equal("DECINED", body["status"]!.GetValue<string>());
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(example, body), received.Body);
        var webhookId = received.Headers["webhook-id"];
        // Marked in its signed id, so a receiver tells it from a delivery about a real entity.
        Assert.StartsWith("evt_test_", webhookId, StringComparison.Ordinal);
        Assert.Equal("1", received.Headers["webhook-test"]);
        Assert.True(global::Herald.Signing.WebhookSignature.Verify(secret, webhookId, received.Headers["webhook-timestamp"], received.Headers["webhook-signature"],
            System.Text.Encoding.UTF8.GetBytes(received.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)));
        Assert.Empty(await merchant.NotificationsAsync(""));
    }

    [Fact]
    public async Task Test_WithAThinEventType_CarriesItsOwnIdInTheBody_AsTheWebhookId()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");

        await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { event_type = "PAYMENT_ORDER.CLOSED" }, 200);

        var received = await Receiver.WaitForAsync(1);
        var body = System.Text.Json.Nodes.JsonNode.Parse(received.Body)!;
        Assert.Equal("PAYMENT_ORDER.CLOSED", body["event_type"]!.GetValue<string>());
        Assert.Equal(received.Headers["webhook-id"], body["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("TRANSACTION.COMPLETED", "event_type TRANSACTION.COMPLETED is not carried by the thin format of endpoint")]
    [InlineData("TRANSACTION.PAID", "event_type 'TRANSACTION.PAID' is not one Herald notifies (GET /v1/event_types lists them)")]
    [InlineData("", "event_type is empty: name one (GET /v1/event_types lists them), or leave it out for Herald's test notification")]
    public async Task Test_WithAnEventTypeTheEndpointCannotReceive_Is400_AndSendsNothing(string eventType, string message)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");

        var error = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { event_type = eventType }, 400);

        Assert.StartsWith(message, error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        await Task.Delay(300);
        Assert.Empty(Receiver.Received);
    }

    [Fact]
    public async Task Test_OfAnotherMerchantsEndpoint_Is404()
    {
        using var owner = await Herald.NewMerchantAsync("Owner");
        using var stranger = await Herald.NewMerchantAsync("Stranger");
        var (id, _) = await owner.AddEndpointAsync(Receiver.Url, "thin");

        await stranger.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 404);
        await stranger.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-01-01T00:00:00Z" }, 404);
        Assert.Empty(Receiver.Received);
    }

    [Fact]
    public async Task Recover_SinceATime_ResendsTheFailedNotificationsOfThatEndpoint_NotTheSucceededOnes()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        // Another endpoint of the merchant's, with a failed notification of its own.
        await merchant.AddEndpointAsync(Receiver.Url + "/other", "transaction");
        var ok = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(ok, "PAYMENT_ORDER.OPENED", 1);
        Receiver.Status = 500;
        var failed = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 11, currency = "BRL" })).Str("id");
        var n = await merchant.WaitForAttemptsAsync(failed, "PAYMENT_ORDER.OPENED", 1);
        Assert.Equal("pending", n.Str("status"));
        var elsewhere = await merchant.WaitForAttemptsAsync(await merchant.NewTransactionAsync(), "TRANSACTION.INIT", 1);
        Assert.Equal("pending", elsewhere.Str("status"));

        Receiver.Status = 200;
        var before = Receiver.Received.Count;
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);

        Assert.Equal(1, accepted["queued"]!.GetValue<int>());
        Assert.True(accepted["complete"]!.GetValue<bool>());
        var resent = await Receiver.WaitForAsync(before + 1);
        Assert.Equal(n.Str("event_id"), resent.Headers["webhook-id"]);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n.Str("id"))).Str("status") == "succeeded");
        var detail = await merchant.NotificationAsync(n.Str("id"));
        Assert.Equal("manual", detail["attempts"]!.AsArray().Last()!.Str("trigger"));
        // The other endpoint's failed notification is left to its own schedule.
        Assert.Equal(before + 1, Receiver.Received.Count);
        Assert.Equal(1, (await merchant.NotificationAsync(elsewhere.Str("id")))["attempt_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59Z")]
    [InlineData("1900-01-01")]
    [InlineData("0001-01-01")]
    public async Task Recover_SinceATimeBefore1970_ResendsEveryFailedNotification_AsSinceAnyLaterTimeBeforeThem(string since)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        var failed = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 11, currency = "BRL" })).Str("id");
        var n = await merchant.WaitForAttemptsAsync(failed, "PAYMENT_ORDER.OPENED", 1);

        Receiver.Status = 200;
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since }, 202);

        Assert.Equal(1, accepted["queued"]!.GetValue<int>());
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n.Str("id"))).Str("status") == "succeeded");
    }

    [Fact]
    public async Task Recover_AskedTwiceAtOnce_OrAgainBeforeTheFirstWentOut_SendsEachFailedOneOnce_WhenItsResendSucceeds()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        var failed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })).Str("id");
            failed.Add((await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1)).Str("event_id"));
        }

        // Asked twice at once (a double click, a retried call): one of them queues the three. The
        // receiver takes its time, so those resends are still going out when a third is asked: it
        // queues again what is under way by then, to be sent should that attempt fail.
        Receiver.Status = 200;
        Receiver.Delay = TimeSpan.FromMilliseconds(700);
        var before = Receiver.Received.Count;
        var together = await Task.WhenAll(
            merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202),
            merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202));
        var again = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);

        Assert.Equal(3, together.Max(a => a["queued"]!.GetValue<int>()));
        Assert.InRange(again["queued"]!.GetValue<int>(), 0, 3);
        Assert.True(again["complete"]!.GetValue<bool>());
        await Receiver.WaitForAsync(before + 3);
        await Task.Delay(1500);
        var resent = Receiver.Received.Skip(before).Select(r => r.Headers["webhook-id"]).ToList();
        Assert.Equal(failed.Order(StringComparer.Ordinal), resent.Order(StringComparer.Ordinal));

        // Once they went out, a recover finds nothing failed left to send.
        await HeraldHost.EventuallyAsync(async () =>
            (await merchant.NotificationsAsync("limit=100")).All(n => n!.Str("status") == "succeeded"));
        Assert.All(await merchant.NotificationsAsync("limit=100"), n => Assert.Equal(2, n!["attempt_count"]!.GetValue<int>()));
        var after = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(0, after["queued"]!.GetValue<int>());
    }

    [Fact]
    public async Task Recover_BesideAScheduledRetryUnderWay_WaitsForIt_AndDoesNotSendAgainWhatItDelivered()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var n = await FailedOnceAsync(merchant);

        // Its retry is under way (the receiver holds it) when the merchant asks for a recover.
        var before = await RetryHeldAsync();
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(1, accepted["queued"]!.GetValue<int>());
        await Task.Delay(700);
        Assert.Equal(before + 1, Receiver.Received.Count);

        // The retry is answered 200: the recover finds it delivered and sends nothing.
        Receiver.Release();
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n)).Str("status") == "succeeded");
        await Task.Delay(1000);
        Assert.Equal(before + 1, Receiver.Received.Count);
        Assert.Equal(["schedule", "schedule"], (await merchant.NotificationAsync(n))["attempts"]!.AsArray().Select(a => a!.Str("trigger")));
    }

    [Fact]
    public async Task Resend_BesideAScheduledRetryUnderWay_IsSentOnceItIsOver_NeverBesideIt()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var n = await FailedOnceAsync(merchant);

        var before = await RetryHeldAsync();
        Receiver.ResetMaxInFlight();
        await merchant.PostJsonAsync($"/v1/notifications/{n}/resend", new { }, 202);
        await Task.Delay(700);
        Assert.Equal(before + 1, Receiver.Received.Count);

        // Asked for one notification, the resend goes out even though the retry delivered it, after it.
        Receiver.Release();
        await Receiver.WaitForAsync(before + 2);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n))["attempts"]!.AsArray().Count == 3);
        Assert.Equal(1, Receiver.MaxInFlight);
        Assert.Equal(["schedule", "schedule", "manual"], (await merchant.NotificationAsync(n))["attempts"]!.AsArray().Select(a => a!.Str("trigger")));
    }

    [Theory]
    [InlineData("resend", 500)]
    [InlineData("recover", 500)]
    [InlineData("resend", 200)]
    [InlineData("recover", 200)]
    public async Task Recover_WhileAManualAttemptOfItIsUnderWay_SendsItAgainOnceThatAttemptIsOver_UnlessItSucceeded(string underWay, int answered)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var n = await FailedOnceAsync(merchant);

        // A manual attempt of it is under way (the receiver holds it, to answer it as asked) when the merchant asks for a recover.
        var before = await ManualAttemptHeldAsync(merchant, id, n, underWay, answered);
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(1, accepted["queued"]!.GetValue<int>());
        Assert.True(accepted["complete"]!.GetValue<bool>());
        await Task.Delay(700);
        Assert.Equal(before + 1, Receiver.Received.Count);

        // That attempt is answered: failed, the recover's own goes out after it, and the receiver
        // takes it; succeeded, the recover's finds it delivered and sends nothing.
        Receiver.Status = 200;
        Receiver.Release();
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n)).Str("status") == "succeeded");
        await Task.Delay(1000);
        string[] attempts = answered == 200 ? ["schedule", "manual"] : ["schedule", "manual", "manual"];
        Assert.Equal(before + attempts.Length - 1, Receiver.Received.Count);
        Assert.Equal(attempts, (await merchant.NotificationAsync(n))["attempts"]!.AsArray().Select(a => a!.Str("trigger")));
        Assert.Equal(1, Receiver.MaxInFlight);
    }

    [Fact]
    public async Task Recover_OfAnOrderedEndpoint_WhileAnEarlierRecoversRunIsUnderWay_SendsWhatThatRunStopsShortOf()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { ordered = true });
        Receiver.Status = 500;
        var failed = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })).Str("id");
            failed.Add((await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1)).Str("id"));
        }

        // The first recover's run is sending the older one (the receiver holds it, to fail it) when a second is asked.
        Receiver.Hold();
        var before = Receiver.Received.Count;
        var first = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(2, first["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(before + 1);
        var second = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(2, second["queued"]!.GetValue<int>());

        // The first run stops at its failure; the second sends both, after it.
        Receiver.Status = 200;
        Receiver.Release();
        await HeraldHost.EventuallyAsync(async () =>
            (await Task.WhenAll(failed.Select(n => merchant.NotificationAsync(n)))).All(n => n.Str("status") == "succeeded"));
        await Task.Delay(500);
        Assert.Equal(before + 3, Receiver.Received.Count);
        Assert.Equal(["schedule", "manual", "manual"], (await merchant.NotificationAsync(failed[0]))["attempts"]!.AsArray().Select(a => a!.Str("trigger")));
        Assert.Equal(["schedule", "manual"], (await merchant.NotificationAsync(failed[1]))["attempts"]!.AsArray().Select(a => a!.Str("trigger")));
    }

    /// <summary>
    /// Sends the failed notification again by hand (a resend, or a recover) to a receiver that holds
    /// the attempt, to answer <paramref name="status"/>; answers how many requests came before it.
    /// </summary>
    private async Task<int> ManualAttemptHeldAsync(HttpClient merchant, string endpointId, string notificationId, string how, int status)
    {
        Receiver.Status = status;
        Receiver.Hold();
        Receiver.ResetMaxInFlight();
        var before = Receiver.Received.Count;
        if (how == "resend")
        {
            await merchant.PostJsonAsync($"/v1/notifications/{notificationId}/resend", new { }, 202);
        }
        else
        {
            var first = await merchant.PostJsonAsync($"/v1/endpoints/{endpointId}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
            Assert.Equal(1, first["queued"]!.GetValue<int>());
        }
        await Receiver.WaitForAsync(before + 1);
        return before;
    }

    /// <summary>A payment order whose first attempt the receiver failed; answers its notification's id.</summary>
    private async Task<string> FailedOnceAsync(HttpClient merchant)
    {
        Receiver.Status = 500;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        return (await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1)).Str("id");
    }

    /// <summary>Lets the failed notification's retry come due and go out to a receiver that holds it (to answer 200); answers how many requests came before it.</summary>
    private async Task<int> RetryHeldAsync()
    {
        Receiver.Status = 200;
        Receiver.Hold();
        var before = Receiver.Received.Count;
        await Herald.AdvanceUntilAsync(TimeSpan.FromHours(1), () => Task.FromResult(Receiver.Received.Count > before));
        return before;
    }

    [Fact]
    public async Task Recover_OfAnOrderedEndpoint_SendsAnEntitysVersionsOldestFirst_OneAtATime()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { ordered = true, retry = "exponential" });
        Receiver.Status = 500;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        await merchant.MoveAsync("payment_orders", order, "CLOSED");
        // Both versions fail until their three days are over.
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () =>
        {
            Herald.Clock.Advance(TimeSpan.FromHours(1));
            var list = await merchant.NotificationsAsync($"entity_id={order}");
            return list.Count == 2 && list.All(n => n!.Str("status") == "dead");
        }, TimeSpan.FromSeconds(90));
        var byEvent = (await merchant.NotificationsAsync($"entity_id={order}")).ToDictionary(n => n!.Str("event_id"), n => n!.Str("event_type"));
        var opened = byEvent.Single(p => p.Value == "PAYMENT_ORDER.OPENED").Key;

        // Recovered while the older version still fails: the run stops there, the newer one is not sent past it.
        Receiver.Status = 200;
        Receiver.Answer = r => r.Headers["webhook-id"] == opened ? 500 : 200;
        var before = Receiver.Received.Count;
        await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        await Receiver.WaitForAsync(before + 1);
        await Task.Delay(500);
        Assert.Equal([opened], Receiver.Received.Skip(before).Select(r => r.Headers["webhook-id"]));

        // Recovered once the receiver takes both: oldest first, one at a time.
        Receiver.Answer = null;
        var resent = (await RecoverIntoSlowReceiverAsync(merchant, id, 2)).Select(r => byEvent[r.Headers["webhook-id"]]).ToList();
        Assert.Equal(["PAYMENT_ORDER.OPENED", "PAYMENT_ORDER.CLOSED"], resent);
        Assert.Equal(1, Receiver.MaxInFlight);
    }

    [Fact]
    public async Task Recover_KeepsToTheEndpointsConcurrencyCap()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 2 });
        Receiver.Status = 500;
        var orders = new List<string>();
        // Four failures: fewer than the five that open the circuit, which would cap it at one anyway.
        for (var i = 0; i < 4; i++)
        {
            orders.Add((await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })).Str("id"));
        }
        // Two at a time: the rest are held back a second each, so the clock moves on until all were tried.
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () =>
            (await merchant.NotificationsAsync("limit=100")).Count(n => n!["attempt_count"]!.GetValue<int>() >= 1) == 4);

        await RecoverIntoSlowReceiverAsync(merchant, id, 4);
        Assert.InRange(Receiver.MaxInFlight, 1, 2);
    }

    [Fact]
    public async Task Recover_OfAnEndpointWithACapOfOne_SendsItsFailedNotificationsOldestFirst()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 1, retry = "hourly" });
        Receiver.Status = 500;
        // Four failures: fewer than the five that open the circuit.
        for (var i = 0; i < 4; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () =>
            (await merchant.NotificationsAsync("limit=100")).Count(n => n!["attempt_count"]!.GetValue<int>() >= 1) == 4);
        var oldestFirst = (await merchant.NotificationsAsync("limit=100")).Reverse().Select(n => n!.Str("event_id")).ToList();

        // One at a time, each resend held back while the one before it is under way, and none overtaking an older one.
        var resent = await RecoverIntoSlowReceiverAsync(merchant, id, 4);
        Assert.Equal(oldestFirst, resent.Select(r => r.Headers["webhook-id"]));
        Assert.Equal(1, Receiver.MaxInFlight);
    }

    [Fact]
    public async Task Recover_OfAnEndpointWhoseCircuitIsOpen_SendsOldestFirst_AndItsFirstSuccessClosesTheCircuit()
    {
        await using var operatorReceiver = await TestReceiver.StartAsync();
        using var admin = Herald.As(HeraldHost.AdminKey);
        await admin.PostJsonAsync("/v1/operator/endpoints", new { url = operatorReceiver.Url });
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "hourly" });
        Receiver.Status = 500;
        const int orders = 6;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        // The first attempts fail and the circuit opens (what comes after the fifth failure waits its turn, a second at a time).
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () =>
        {
            var list = await merchant.NotificationsAsync("limit=100");
            return list.Count == orders && list.All(n => n!["attempt_count"]!.GetValue<int>() >= 1);
        }, TimeSpan.FromSeconds(60));
        Assert.Contains("endpoint.failing", (await operatorReceiver.WaitForAsync(1)).Body, StringComparison.Ordinal);
        var oldestFirst = (await merchant.NotificationsAsync("limit=100")).Reverse().Select(n => n!.Str("event_id")).ToList();

        // Recovered while the receiver still fails: a failed resend does not count for the circuit,
        // which stays open, so they go one at a time, and oldest first.
        Receiver.ResetMaxInFlight();
        var before = Receiver.Received.Count;
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(orders, accepted["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(before + orders, TimeSpan.FromSeconds(30));
        Assert.Equal(oldestFirst, Receiver.Received.Skip(before).Select(r => r.Headers["webhook-id"]));
        Assert.Equal(1, Receiver.MaxInFlight);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("limit=100")).All(n => n!["attempt_count"]!.GetValue<int>() >= 2));
        Assert.Single(operatorReceiver.Received);

        // Recovered once the receiver answers: the oldest goes first, its success closes the
        // circuit (the operator hears the endpoint recovered), and the rest go out side by side.
        Receiver.Status = 200;
        Receiver.Delay = TimeSpan.FromMilliseconds(300);
        Receiver.ResetMaxInFlight();
        before = Receiver.Received.Count;
        accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(orders, accepted["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(before + orders, TimeSpan.FromSeconds(30));
        Assert.Equal(oldestFirst[0], Receiver.Received.Skip(before).First().Headers["webhook-id"]);
        Assert.True(Receiver.MaxInFlight > 1, $"at most {Receiver.MaxInFlight} resend at a time after the first succeeded");
        var recovered = JsonNode.Parse((await operatorReceiver.WaitForAsync(2)).Body)!;
        Assert.Equal("endpoint.recovered", recovered.Str("type"));
        Assert.Equal(id, recovered["data"].Str("endpoint_id"));
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("limit=100")).All(n => n!.Str("status") == "succeeded"));
        Assert.Null((await merchant.GetJsonAsync($"/v1/endpoints/{id}"))["failing_since"]);
    }

    [Fact]
    public async Task Recover_WhileAResendOfItsOldestIsUnderWay_SendsTheRestMeanwhile_AndNotTheOldestAgainOnceItSucceeded()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "hourly" });
        Receiver.Status = 500;
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () =>
        {
            var list = await merchant.NotificationsAsync("limit=100");
            return list.Count == 3 && list.All(n => n!["attempt_count"]!.GetValue<int>() >= 1);
        }, TimeSpan.FromSeconds(60));
        var oldestFirst = (await merchant.NotificationsAsync("limit=100")).Reverse().ToList();
        var oldest = oldestFirst[0]!.Str("event_id");

        // The oldest is resent by hand, and its receiver takes its time over it.
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var answer = new ManualResetEventSlim();
        Receiver.Answer = r =>
        {
            if (r.Headers["webhook-id"] == oldest)
            {
                arrived.TrySetResult();
                answer.Wait(TimeSpan.FromSeconds(30));
            }
            return 200;
        };
        var before = Receiver.Received.Count;
        await merchant.PostJsonAsync($"/v1/notifications/{oldestFirst[0]!.Str("id")}/resend", new { }, 202);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(15));

        // A recover meanwhile queues all three; the two others are not held up behind the oldest's attempt.
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(3, accepted["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(before + 2, TimeSpan.FromSeconds(10));
        Assert.Equal(oldestFirst.Skip(1).Select(n => n!.Str("event_id")).Order(), Receiver.Received.Skip(before).Select(r => r.Headers["webhook-id"]).Order());

        // Once the oldest's attempt succeeds, the recover does not send it again.
        answer.Set();
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("limit=100")).All(n => n!.Str("status") == "succeeded"));
        await Task.Delay(1500);
        Assert.Equal(before + 3, Receiver.Received.Count);
    }

    /// <summary>Recovers the endpoint into a receiver that now answers 200 after 150 ms; answers what the recover sent.</summary>
    private async Task<List<ReceivedRequest>> RecoverIntoSlowReceiverAsync(HttpClient merchant, string endpointId, int expected)
    {
        Receiver.Status = 200;
        Receiver.Delay = TimeSpan.FromMilliseconds(150);
        Receiver.ResetMaxInFlight();
        var before = Receiver.Received.Count;
        var accepted = await merchant.PostJsonAsync($"/v1/endpoints/{endpointId}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(expected, accepted["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(before + expected);
        return Receiver.Received.Skip(before).ToList();
    }

    [Fact]
    public async Task Recover_WithoutSince_Is400()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");

        var error = await merchant.PostJsonAsync($"/v1/endpoints/{id}/recover", new { }, 400);

        Assert.Contains("since", error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

public sealed class EndpointTestLimitTests : HeraldWithReceiver
{
    [Fact]
    public async Task AMerchantsTestsWaitingOnAReceiverThatNeverAnswers_AreBounded_429PastThem_OtherMerchantsUnaffected()
    {
        // A receiver that takes connections and never answers.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var held = new System.Collections.Concurrent.ConcurrentBag<System.Net.Sockets.TcpClient>();
        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await listener.AcceptTcpClientAsync(stop.Token));
            }
        });
        using var merchant = await Herald.NewMerchantAsync();
        var (hanging, _) = await merchant.AddEndpointAsync($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/hooks", "thin",
            new { timeout_seconds = 3 });

        var waiting = Enumerable.Range(0, global::Herald.Delivery.Sending.EndpointTester.TestsPerMerchant)
            .Select(_ => merchant.PostAsync($"/v1/endpoints/{hanging}/test", null)).ToList();
        for (var i = 0; i < 100 && held.Count < global::Herald.Delivery.Sending.EndpointTester.TestsPerMerchant; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(global::Herald.Delivery.Sending.EndpointTester.TestsPerMerchant, held.Count);

        using (var refused = await merchant.PostAsync($"/v1/endpoints/{hanging}/test", null))
        {
            await ApiErrors.ExpectErrorAsync(refused, 429, "5 endpoint tests of this merchant are waiting for their answers already; retry once one has its answer");
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }
        // Another merchant's test is not held up by them.
        using var other = await Herald.NewMerchantAsync("Other");
        var (calm, _) = await other.AddEndpointAsync(Receiver.Url, "thin");
        Assert.True((await other.PostJsonAsync($"/v1/endpoints/{calm}/test", new { }, 200))["succeeded"]!.GetValue<bool>());

        // Once they have their answers (none, at the timeout), the merchant may test again.
        foreach (var answer in await Task.WhenAll(waiting))
        {
            using (answer)
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
                Assert.Contains("no answer within 3 s", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        var (answering, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Assert.True((await merchant.PostJsonAsync($"/v1/endpoints/{answering}/test", new { }, 200))["succeeded"]!.GetValue<bool>());
        await stop.CancelAsync();
        foreach (var client in held)
        {
            client.Dispose();
        }
    }
}
