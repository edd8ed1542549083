using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

/// <summary>Per-endpoint concurrency and rate limits, the circuit breaker, and auto-disable.</summary>
public sealed class EndpointHealthTests : HeraldWithReceiver
{
    private static async Task<int> SucceededAsync(HttpClient merchant) =>
        (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count;

    /// <summary>
    /// Once all <paramref name="orders"/> are recorded and no attempt is in flight (its lease would
    /// read as a time to come back), with the clock standing still: when each notification still
    /// pending was told to come back, in order.
    /// </summary>
    private async Task<List<DateTimeOffset>> HeldBackAsync(HttpClient merchant, int orders)
    {
        static DateTimeOffset At(JsonNode? n, string key) => DateTimeOffset.Parse(n.Str(key), System.Globalization.CultureInfo.InvariantCulture);
        List<DateTimeOffset> comeBack = [];
        await HeraldHost.EventuallyAsync(async () =>
        {
            var all = await merchant.NotificationsAsync("limit=100");
            var pending = all.Where(n => n.Str("status") == "pending").ToList();
            comeBack = pending.Where(n => n!["next_attempt_at"] is not null && At(n, "next_attempt_at") > At(n, "created_at"))
                .Select(n => At(n, "next_attempt_at")).Order().ToList();
            var succeeded = all.Count(n => n.Str("status") == "succeeded");
            return all.Count == orders && comeBack.Count == pending.Count && succeeded == Receiver.Received.Count;
        }, TimeSpan.FromSeconds(30));
        return comeBack;
    }

    [Fact]
    public async Task EndpointWithMaxConcurrencyTwo_NeverHasMoreThanTwoAttemptsInFlight_AndGetsEverything()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 2 });
        Assert.Equal(2, (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["max_concurrency"]!.GetValue<int>());
        Receiver.Delay = TimeSpan.FromMilliseconds(300);
        const int orders = 10;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(60));
        Assert.Equal(2, Receiver.MaxInFlight);
        Assert.Equal(orders, Receiver.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        // Held back is not attempted: every notification was tried exactly once.
        Assert.Equal(orders, Receiver.Received.Count);
    }

    [Fact]
    public async Task EndpointAtItsCap_GetsWhatWaits_AsSoonAsOneOfItsAttemptsEnds_NotAtALaterTurn()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 2 });
        Receiver.Delay = TimeSpan.FromMilliseconds(200);
        const int orders = 6;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        // The clock stands still: work handed back to the queue for a later turn could never come
        // due, so everything arriving shows the endpoint's freed places were filled from memory.
        await HeraldHost.EventuallyAsync(async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(30));
        Assert.Equal(2, Receiver.MaxInFlight);
        Assert.Equal(orders, Receiver.Received.Count);
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("delete")]
    public async Task WhatWaitsInMemoryForACappedEndpoint_IsNotSent_OnceTheEndpointIsPausedOrDeleted(string action)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 1 });
        Receiver.Delay = TimeSpan.FromMilliseconds(700);
        const int orders = 5;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        // One attempt in flight, the rest waiting for it in memory (the clock stands still).
        await HeraldHost.EventuallyAsync(() => Task.FromResult(!Receiver.Received.IsEmpty), TimeSpan.FromSeconds(30));
        if (action == "pause")
        {
            await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        }
        else
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/endpoints/{endpoint}")).StatusCode);
        }
        // Well past the attempt in flight: nothing more went out.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(Receiver.Received);
        if (action == "pause")
        {
            // Resumed, the endpoint gets the rest, each once.
            await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/resume", new { }, 200);
            await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(60));
            Assert.Equal(orders, Receiver.Received.Count);
        }
    }

    [Fact]
    public async Task AResendToACappedEndpointWithABacklog_IsLetInAtTheNextFreePlace_NotAfterTheBacklog()
    {
        using var merchant = await CappedAtOneWithItsPaceLearntAsync(TimeSpan.FromMilliseconds(300));
        var first = Receiver.Received.Single().Headers["webhook-id"];
        var delivered = (await merchant.NotificationsAsync("status=succeeded")).Single().Str("id");
        // One in flight and four waiting in memory (four times the cap): the clock stands still.
        const int backlog = 5;
        for (var i = 0; i < backlog; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 2, currency = "BRL" });
        }
        await merchant.PostJsonAsync($"/v1/notifications/{delivered}/resend", new { }, 202);

        // The backlog waits in memory and takes each place as it frees; the resend has one kept for it.
        await HeraldHost.EventuallyAsync(() => Task.FromResult(Receiver.Received.Count == 1 + backlog + 1), TimeSpan.FromSeconds(30));
        var ids = Receiver.Received.Select(r => r.Headers["webhook-id"]).ToList();
        var resentAt = ids.LastIndexOf(first);
        Assert.True(resentAt > 0 && resentAt < ids.Count - 2, $"the resend arrived {resentAt + 1}. of {ids.Count}");
        Assert.Equal(1, Receiver.MaxInFlight);
    }

    [Fact]
    public async Task EndpointWithRateLimitFive_GetsAtMostItsRatePerSecond()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { rate_limit = 5 });
        var arrivals = new System.Collections.Concurrent.ConcurrentQueue<DateTime>();
        Receiver.Answer = _ =>
        {
            arrivals.Enqueue(DateTime.UtcNow);
            return 200;
        };
        const int orders = 20;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(60));
        var times = arrivals.Order().ToList();
        Assert.Equal(orders, times.Count);
        // A bucket of 5 refilled with 5 a second: no second-long window holds more than 10, and 20 take over 2 s.
        foreach (var start in times)
        {
            Assert.True(times.Count(t => t >= start && t < start.AddSeconds(1)) <= 10, "more than the rate allows arrived within one second");
        }
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(2), $"20 attempts at 5/s arrived within {(times[^1] - times[0]).TotalSeconds:F1} s");
    }

    [Fact]
    public async Task ABacklogOverTheRateLimit_ComesBackOneIntervalApart_NotAllInTheNextSecond()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { rate_limit = 2 });
        const int orders = 30;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        // The clock stands still: each notification is sent (the bucket's two, and what it refilled
        // meanwhile) or held back once, told when to come back.
        var comeBack = await HeldBackAsync(merchant, orders);
        Assert.True(comeBack.Count >= orders / 2, $"only {comeBack.Count} of {orders} were held back");
        // Two a second: the held-back ones are spread over the time the endpoint takes to receive them.
        var spread = comeBack[^1] - comeBack[0];
        Assert.True(spread >= TimeSpan.FromSeconds((comeBack.Count - 1) / 2.0 * 0.9),
            $"{comeBack.Count} held back at 2/s come back within {spread.TotalSeconds:F1} s");

        // And all of them arrive.
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task ABacklogOverTheConcurrencyCap_ComesBackAsTheCapLetsItThrough_NotAllInTheNextSecond()
    {
        using var merchant = await CappedAtOneWithItsPaceLearntAsync(TimeSpan.FromMilliseconds(200));
        const int orders = 20;
        for (var i = 1; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        // The clock stands still: what finds the one attempt in flight is held back once, told when
        // to come back.
        var comeBack = await HeldBackAsync(merchant, orders);
        Assert.True(comeBack.Count >= orders / 2, $"only {comeBack.Count} of {orders} were held back");
        // One at a time, 200 ms each: turns twice that pace (what comes early waits in memory for
        // the attempt in flight), about ten a second, not all of them a second later.
        var spread = comeBack[^1] - comeBack[0];
        Assert.True(spread >= TimeSpan.FromSeconds((comeBack.Count - 1) * 0.1 * 0.9),
            $"{comeBack.Count} held back by a cap of one at 200 ms an attempt come back within {spread.TotalSeconds:F1} s");

        // And all of them arrive, each tried once.
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(60));
        Assert.Equal(1, Receiver.MaxInFlight);
        Assert.Equal(orders, Receiver.Received.Count);
    }

    /// <summary>A merchant whose endpoint takes one attempt at a time and answers after <paramref name="delay"/>, one notification already delivered to it.</summary>
    private async Task<HttpClient> CappedAtOneWithItsPaceLearntAsync(TimeSpan delay)
    {
        var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { max_concurrency = 1 });
        Receiver.Delay = delay;
        // The endpoint's pace is learnt from its attempts: one goes first.
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () => await SucceededAsync(merchant) == 1, TimeSpan.FromSeconds(30));
        return merchant;
    }

    [Fact]
    public async Task WorkOverTheConcurrencyCap_IsClaimedAgainWhenItsTurnComes_NotAtTheNextPoll()
    {
        using var merchant = await CappedAtOneWithItsPaceLearntAsync(TimeSpan.FromMilliseconds(10));
        const int orders = 8;
        // Recorded together, so that most find an attempt in flight and are held back.
        await Task.WhenAll(Enumerable.Range(1, orders - 1).Select(i => merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" })));

        // The clock moves 10 ms at a time (each step a tenth of a second of real time, for the
        // attempts to end in), less than a poll's second in all: what the cap held back comes back
        // one attempt's time apart, each claimed when its turn comes, so all of it arrives well
        // within that (claimed only at each second's poll, one would arrive a second).
        for (var step = 0; step < 70 && Receiver.Received.Count < orders; step++)
        {
            await Task.Delay(100);
            Herald.Clock.Advance(TimeSpan.FromMilliseconds(10));
        }
        Assert.Equal(orders, Receiver.Received.Count);
        Assert.Equal(1, Receiver.MaxInFlight);
    }

    [Fact]
    public async Task AfterFiveConsecutiveFailures_TheOperatorHearsItFailing_OneProbeAtATime_UntilOneSucceeds_ThenTheOperatorHearsItRecovered()
    {
        await using var operatorReceiver = await TestReceiver.StartAsync();
        using var admin = Herald.As(HeraldHost.AdminKey);
        var operatorEndpoint = await admin.PostJsonAsync("/v1/operator/endpoints", new { url = operatorReceiver.Url });
        Assert.StartsWith("whsec_", operatorEndpoint.Str("secret"), StringComparison.Ordinal);

        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 500;
        Receiver.Delay = TimeSpan.FromMilliseconds(100);
        const int orders = 8;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        // First attempts fail: the circuit opens (what comes after the fifth failure waits its turn).
        await Herald.AdvanceUntilAsync(TimeSpan.Zero,
            async () => (await merchant.NotificationsAsync("limit=100")).All(n => n!["attempt_count"]!.GetValue<int>() >= 1), TimeSpan.FromSeconds(60));

        // The operator hears the circuit open, once, with the last answer.
        await operatorReceiver.WaitForAsync(1);
        var failing = JsonNode.Parse(operatorReceiver.Received.Single().Body)!;
        Assert.Equal("endpoint.failing", failing.Str("type"));
        Assert.Equal(endpoint, failing["data"].Str("endpoint_id"));
        Assert.Equal(5, failing["data"]!["consecutive_failures"]!.GetValue<int>());
        Assert.Equal(500, failing["data"]!["last_status_code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(failing["data"].Str("last_error")));

        // The retries come one at a time while the endpoint keeps failing.
        Receiver.ResetMaxInFlight();
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(5), () => Task.FromResult(Receiver.Received.Count >= orders + 4), TimeSpan.FromSeconds(60));
        Assert.Equal(1, Receiver.MaxInFlight);

        // One probe succeeds: the circuit closes and the rest follow.
        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.Zero, async () => await SucceededAsync(merchant) == orders, TimeSpan.FromSeconds(90));
        await operatorReceiver.WaitForAsync(2);
        Assert.Single(operatorReceiver.Received, r => r.Body.Contains("endpoint.failing", StringComparison.Ordinal));
        var recovered = operatorReceiver.Received.Select(r => JsonNode.Parse(r.Body)!).Single(e => e.Str("type") == "endpoint.recovered");
        Assert.Equal(endpoint, recovered["data"].Str("endpoint_id"));
        Assert.StartsWith("evt_", recovered.Str("id"), StringComparison.Ordinal);
        Assert.Equal(recovered.Str("id"), operatorReceiver.Received.First(r => r.Body.Contains("endpoint.recovered", StringComparison.Ordinal)).Headers["webhook-id"]);
    }

    [Fact]
    public async Task EndpointWithNothingButFailuresForFiveDays_IsDisabledWithItsReason_AndTheOperatorIsTold()
    {
        await using var operatorReceiver = await TestReceiver.StartAsync();
        using var admin = Herald.As(HeraldHost.AdminKey);
        await admin.PostJsonAsync("/v1/operator/endpoints", new { url = operatorReceiver.Url });

        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 503;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        Assert.True((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());

        // Four days on, a new change fails too: still enabled.
        Herald.Clock.Advance(TimeSpan.FromDays(4));
        var second = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 6, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(second, "PAYMENT_ORDER.OPENED", 1);
        Assert.True((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());

        // Past five days of nothing but failures: the next failure disables it.
        Herald.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 7, currency = "BRL" });
        // The earlier notifications' retries fall due at the same moment (once the circuit opens,
        // the rest wait their turn a second later, so the clock has to move on): whichever of them
        // fails first past the five days disables the endpoint, and what is left pending waits.
        JsonObject disabled = null!;
        await Herald.AdvanceUntilAsync(TimeSpan.Zero,
            async () => !(disabled = await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());
        Assert.Contains("nothing but failures for 5", disabled.Str("disabled_reason"), StringComparison.Ordinal);
        Assert.NotNull(disabled["disabled_at"]);

        await HeraldHost.EventuallyAsync(() => Task.FromResult(operatorReceiver.Received.Any(r => r.Body.Contains("endpoint.disabled", StringComparison.Ordinal))));
        var evt = operatorReceiver.Received.Select(r => JsonNode.Parse(r.Body)!).First(e => e.Str("type") == "endpoint.disabled");
        Assert.Equal(endpoint, evt["data"].Str("endpoint_id"));
        Assert.Contains("nothing but failures", evt["data"].Str("reason"), StringComparison.Ordinal);
        // The first notification is past its three days but has not had the ladder's first six
        // tries (its retries fell behind the clock): it is not dead, and waits with the rest.
        var first = Assert.Single(await merchant.NotificationsAsync($"entity_id={order}"))!;
        Assert.Equal("pending", first.Str("status"));
        Assert.DoesNotContain(operatorReceiver.Received, r => r.Body.Contains("notification.dead", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFailingEndpoint_SaysSinceWhenItFails_UntilAnAttemptSucceeds()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Assert.Null((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"]);
        Receiver.Status = 503;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        var failed = await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);

        // The first failure's moment, in the endpoint itself and in the list: what auto-disable counts
        // from (written once the attempt's outcome is).
        var startedAt = failed["attempts"]![0].Str("started_at");
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"] is not null);
        Assert.Equal(startedAt, (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}")).Str("failing_since"));
        Assert.Equal(startedAt, (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray().Single(e => e.Str("id") == endpoint)!.Str("failing_since"));

        // A later failure does not move it; the first success clears it.
        Herald.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 6, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(second, "PAYMENT_ORDER.OPENED", 1);
        Assert.Equal(startedAt, (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}")).Str("failing_since"));
        Receiver.Status = 200;
        var third = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 7, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(third, "PAYMENT_ORDER.OPENED", 1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"] is null);
    }

    [Fact]
    public async Task AResendTheEndpointAnswered_StartsItsDaysOfFailuresOver()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 503;
        var first = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(first, "PAYMENT_ORDER.OPENED", 1);

        // Four days of failures, then a resend by hand is received.
        Herald.Clock.Advance(TimeSpan.FromDays(4));
        var second = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 6, currency = "BRL" })).Str("id");
        var failed = await merchant.WaitForAttemptsAsync(second, "PAYMENT_ORDER.OPENED", 1);
        Receiver.Status = 200;
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await merchant.PostAsync($"/v1/notifications/{failed.Str("id")}/resend", null)).StatusCode);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(failed.Str("id"))).Str("status") == "succeeded");

        // Five days and more since the first failure, but a day since the endpoint answered: a failure now does not disable it.
        Receiver.Status = 503;
        Herald.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        var third = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 7, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(third, "PAYMENT_ORDER.OPENED", 1);
        await Task.Delay(500);
        Assert.True((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AResendTheEndpointFails_StartsItsFailingDays_AndTheNextSuccessEndsThem()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        var delivered = await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(delivered.Str("id"))).Str("status") == "succeeded");

        // Sent again by hand, and failed: the endpoint fails from that attempt on, as from a retry's.
        Receiver.Status = 500;
        Herald.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await merchant.PostAsync($"/v1/notifications/{delivered.Str("id")}/resend", null)).StatusCode);
        var resent = await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 2);
        var failedAt = resent["attempts"]!.AsArray().Single(a => a!.Str("trigger") == "manual")!.Str("started_at");
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"] is not null);
        Assert.Equal(failedAt, (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}")).Str("failing_since"));

        // The next scheduled success, on the node that saw the endpoint answer before, ends them.
        Receiver.Status = 200;
        var next = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 6, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(next, "PAYMENT_ORDER.OPENED", 1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"] is null);
    }

    [Theory]
    [InlineData("resume")]
    [InlineData("patch")]
    public async Task AFailingEndpointEnabledAgain_AnswersItsFailingDaysOver_AsItIsKept(string how)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 503;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        await HeraldHost.EventuallyAsync(async () => (await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"] is not null);

        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        var enabled = how == "resume"
            ? await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/resume", new { }, 200)
            : System.Text.Json.Nodes.JsonNode.Parse(await (await merchant.PatchAsync($"/v1/endpoints/{endpoint}",
                System.Net.Http.Json.JsonContent.Create(new { enabled = true }))).EnsureSuccessStatusCode().Content.ReadAsStringAsync())!.AsObject();
        Assert.True(enabled["enabled"]!.GetValue<bool>());
        Assert.Null(enabled["failing_since"]);
        Assert.Null((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["failing_since"]);
    }

    [Theory]
    [InlineData("max_concurrency", -1)]
    [InlineData("max_concurrency", 1001)]
    [InlineData("rate_limit", -5)]
    [InlineData("rate_limit", 10_001)]
    public async Task OutOfRangeLimits_Are400_AndNothingIsCreated(string field, int value)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var body = new JsonObject { ["url"] = Receiver.Url, ["format"] = "thin", [field] = value };
        var error = await merchant.PostJsonAsync("/v1/endpoints", body, 400);
        Assert.Contains(field, error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact]
    public async Task OperatorEndpoints_AreAdminOnly()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var error = await merchant.PostJsonAsync("/v1/operator/endpoints", new { url = Receiver.Url }, 403);
        Assert.Equal(403, error["statusCode"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnOperatorWebhookDisabledBy410_IsEnabledAgainByTheAdmin_AndGetsWhatWaited()
    {
        await using var operatorReceiver = await TestReceiver.StartAsync();
        using var admin = Herald.As(HeraldHost.AdminKey);
        var hook = (await admin.PostJsonAsync("/v1/operator/endpoints",
            new { url = operatorReceiver.Url, headers = new Dictionary<string, string> { ["X-Alerts-Key"] = "ops-1" } })).Str("id");
        operatorReceiver.Status = 410;

        // A merchant endpoint answering 410 is disabled: the operator's webhook is told, answers 410 too, and is disabled in turn.
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 410;
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" });
        await HeraldHost.EventuallyAsync(async () =>
            !(await admin.GetJsonAsync("/v1/operator/endpoints"))["data"]!.AsArray().Single(e => e!.Str("id") == hook)!["enabled"]!.GetValue<bool>());
        var waiting = operatorReceiver.Received.Count;

        // A merchant cannot act on it; the admin tests it and enables it again, and what waited arrives.
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await merchant.PostAsync($"/v1/operator/endpoints/{hook}/resume", null)).StatusCode);
        operatorReceiver.Status = 200;
        var test = await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/test", new { }, 200);
        Assert.True(test["succeeded"]!.GetValue<bool>());
        // Shaped as Herald's events are, so a receiver reading them by type knows it.
        var tested = System.Text.Json.Nodes.JsonNode.Parse(operatorReceiver.Received.Last().Body)!.AsObject();
        Assert.Equal(["id", "type", "created_at", "data"], tested.Select(p => p.Key));
        Assert.Equal("endpoint.test", tested.Str("type"));
        Assert.Equal(operatorReceiver.Received.Last().Headers["webhook-id"], tested.Str("id"));
        Assert.StartsWith("evt_test_", tested.Str("id"), StringComparison.Ordinal);
        Assert.Equal(hook, tested["data"]!.Str("endpoint_id"));
        Assert.True(tested["data"]!["test"]!.GetValue<bool>());
        // An operator webhook has no payment event types to show an example of.
        var example = await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/test", new { event_type = "TRANSACTION.COMPLETED" }, 400);
        Assert.Equal("an operator webhook's test takes no event_type: it is sent Herald's test notification", example["message"]![0]!.GetValue<string>());
        var resumed = await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/resume", new { }, 200);
        Assert.True(resumed["enabled"]!.GetValue<bool>());
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), () => Task.FromResult(
            operatorReceiver.Received.Skip(waiting).Any(r => r.Body.Contains("endpoint.disabled", StringComparison.Ordinal))));
        // Every request to it carried the admin's own header.
        Assert.All(operatorReceiver.Received, r => Assert.Equal("ops-1", r.Headers["x-alerts-key"]));
    }

    [Fact]
    public async Task AnOperatorWebhook_IsMovedAndItsSecretRotated_InPlace_ByTheAdminAlone()
    {
        await using var first = await TestReceiver.StartAsync();
        await using var second = await TestReceiver.StartAsync();
        using var admin = Herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/operator/endpoints",
            new { url = first.Url, description = "alerts", headers = new Dictionary<string, string> { ["X-Alerts-Key"] = "ops-1" } });
        var hook = created.Str("id");
        var oldSecret = created.Str("secret");

        // A merchant's key can do neither.
        using var merchant = await Herald.NewMerchantAsync();
        using (var refused = await merchant.PatchAsync($"/v1/operator/endpoints/{hook}",
            new StringContent("""{"description":"mine"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        }
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await merchant.PostAsync($"/v1/operator/endpoints/{hook}/rotate_secret", null)).StatusCode);

        // Moved to another host: its credential must be given again, as a merchant endpoint's must.
        async Task<System.Net.Http.HttpResponseMessage> PatchAsync(string body) =>
            await admin.PatchAsync($"/v1/operator/endpoints/{hook}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        using (var keptCredential = await PatchAsync($$"""{"url":"{{second.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal)}}"}"""))
        {
            await ApiErrors.ExpectErrorAsync(keptCredential, 400, "url moves the endpoint to another host; headers: give them again, their credentials' values included (they are not carried to a new host)");
        }
        // A field only a merchant endpoint has is refused, and nothing changes.
        using (var unknown = await PatchAsync("""{"event_types":["TRANSACTION.COMPLETED"]}"""))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, unknown.StatusCode);
        }
        using (var moved = await PatchAsync($$$"""{"url":"{{{second.Url}}}","description":"pager","headers":{"X-Alerts-Key":"ops-2"}}"""))
        {
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        }
        var now = await admin.GetJsonAsync($"/v1/operator/endpoints/{hook}");
        Assert.Equal(second.Url, now.Str("url"));
        Assert.Equal("pager", now.Str("description"));

        var rotated = await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/rotate_secret", new { grace_seconds = 0 }, 200);
        var newSecret = rotated.Str("secret");
        Assert.NotEqual(oldSecret, newSecret);

        // Its test goes to the new address, signed with the new secret alone, with the new header.
        var test = await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/test", new { }, 200);
        Assert.True(test["succeeded"]!.GetValue<bool>());
        var got = await second.WaitForAsync(1);
        Assert.Empty(first.Received);
        Assert.Equal("ops-2", got.Headers["x-alerts-key"]);
        bool Verifies(string secret) => global::Herald.Signing.WebhookSignature.Verify(secret, got.Headers["webhook-id"],
            got.Headers["webhook-timestamp"], got.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(got.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(15));
        Assert.True(Verifies(newSecret));
        Assert.False(Verifies(oldSecret));
    }
}
