using System.Net;
using System.Net.Http.Json;
using Herald.Delivery.Workers;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Operations;

/// <summary>
/// Meters are process-wide: a node's exporter also takes the measurements of same-named instruments
/// of every other node alive in the process (a gauge then shows whichever answered last). Tests that
/// read a node's figures run alone, after the others.
/// </summary>
[CollectionDefinition(nameof(ProcessWideMeters), DisableParallelization = true)]
public sealed class ProcessWideMeters;

[Collection(nameof(ProcessWideMeters))]
public sealed class MetricsAndHealthTests : HeraldWithReceiver
{
    /// <summary>What the operator's scraper reads, with the admin key.</summary>
    private async Task<string> ScrapeAsync()
    {
        using var admin = Herald.As(HeraldHost.AdminKey);
        return await admin.GetStringAsync("/metrics");
    }

    [Fact]
    public async Task Metrics_OnTheApisListener_NeedTheAdminKey_NotAMerchantsKey()
    {
        using var merchant = await Herald.NewMerchantAsync();

        // Every merchant's figures together: neither the public nor a merchant reads them.
        var anonymous = await Herald.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var said = (await anonymous.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["message"]![0]!.GetValue<string>();
        Assert.Contains("needs the admin key", said, StringComparison.Ordinal);
        Assert.Contains("--metrics-urls", said, StringComparison.Ordinal);
        // However the path is spelt on its way to the same route.
        foreach (var path in new[] { "/metrics/", "/METRICS", "/Metrics/" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Herald.Client.GetAsync(path)).StatusCode);
            using var head = new HttpRequestMessage(HttpMethod.Head, path);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Herald.Client.SendAsync(head)).StatusCode);
        }
        var asMerchant = await merchant.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, asMerchant.StatusCode);
        Assert.DoesNotContain("herald_", await asMerchant.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Contains("herald_queue_depth", await ScrapeAsync(), StringComparison.Ordinal);
        // The health checks stay open to anyone (a load balancer's probe holds no key).
        Assert.Equal(HttpStatusCode.OK, (await Herald.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Metrics_OnAListenerOfTheirOwn_AnswerAnyone_AndNothingElseAnswersThere()
    {
        using var free = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        free.Start();
        var port = ((System.Net.IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        await using var node = await HeraldHost.StartAsync(tune: o => o.MetricsUrls = $"http://127.0.0.1:{port}");
        using var merchant = await node.NewMerchantAsync();
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Contains("herald_queue_depth", await scraper.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Contains("herald_queue_depth", await scraper.GetStringAsync("/metrics/"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await scraper.GetAsync("/healthz")).StatusCode);
        // Ready or not yet, but answered there.
        Assert.NotEqual(HttpStatusCode.NotFound, (await scraper.GetAsync("/READYZ")).StatusCode);
        // Neither the API, even with a good key, nor the portal answers there.
        using var merchantThere = new HttpClient { BaseAddress = scraper.BaseAddress };
        merchantThere.DefaultRequestHeaders.Authorization = merchant.DefaultRequestHeaders.Authorization;
        var api = await merchantThere.GetAsync("/v1/endpoints");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Contains("metrics listener", await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await scraper.GetAsync("/portal")).StatusCode);
        // On the API's listener the API answers and the metrics still need the admin key.
        Assert.NotEqual(new Uri($"http://127.0.0.1:{port}"), node.Client.BaseAddress);
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/v1/endpoints")).StatusCode);
        var anonymous = await node.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains($"port {port}", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountAttemptsByOutcome_InPrometheusFormat()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await Receiver.WaitForAsync(1);
        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(6), async () => Receiver.Received.Count >= 2);

        string text = "";
        await HeraldHost.EventuallyAsync(async () =>
        {
            text = await ScrapeAsync();
            return text.Contains("outcome=\"succeeded\"", StringComparison.Ordinal) && text.Contains("outcome=\"failed\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20));
        Assert.Contains("herald_attempts_total", text, StringComparison.Ordinal);
        Assert.Contains("herald_delivery_latency_seconds_bucket", text, StringComparison.Ordinal);
        // In seconds, from milliseconds to the days a retry schedule runs: a p99 of 50 ms falls in a bucket of its own.
        Assert.Matches(@"herald_delivery_latency_seconds_bucket\{[^}]*le=""0\.05""", text);
        Assert.Matches(@"herald_delivery_latency_seconds_bucket\{[^}]*le=""259200""", text);
        Assert.Contains("herald_queue_depth", text, StringComparison.Ordinal);
        // The change and both outcomes went through the group commit.
        Assert.Matches(@"herald_store_write_size_(items_)?count\{[^}]*kind=""change""[^}]*\} [1-9]", text);
        Assert.Matches(@"herald_store_write_size_(items_)?count\{[^}]*kind=""outcome""[^}]*\} [1-9]", text);
        Assert.Contains("herald_store_write_duration_seconds_bucket", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountTheResendsWaiting_UntilTheyAreMade()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await Receiver.WaitForAsync(1);
        var id = (await merchant.NotificationsAsync("limit=1"))[0]!.Str("id");
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(id)).Str("status") == "succeeded");

        // A scrape just before must not hide what changed after it.
        Assert.Matches(@"herald_resends_waiting(\{[^}]*\})? 0\b", await ScrapeAsync());

        // Two resends the receiver holds: both count until they are answered.
        Receiver.Hold();
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        var scraped = await ScrapeAsync();
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(scraped, @"herald_resends_waiting(\{[^}]*\})? 2\b"),
            string.Join("\n", scraped.Split('\n').Where(l => l.Contains("resends", StringComparison.Ordinal))));
        Receiver.Release();
        await Receiver.WaitForAsync(3);
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"herald_resends_waiting(\{[^}]*\})? 0\b"));
    }

    /// <summary>What a scrape reads of <paramref name="metric"/> (a series of its own, or the one series of its name); 0 when it shows none.</summary>
    private async Task<double> ReadAsync(string metric)
    {
        var line = System.Text.RegularExpressions.Regex.Match(await ScrapeAsync(), $@"(?m)^{metric}(\{{[^}}]*\}})? (\S+)");
        return line.Success ? double.Parse(line.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>How many deliveries the latency histogram has timed (0 before the first).</summary>
    private async Task<long> DeliveriesTimedAsync() => (long)await ReadAsync("herald_delivery_latency_seconds_count");

    [Fact]
    public async Task Metrics_TimeADeliveryAResendMade_OnceWhenItFirstSucceeds()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        var id = (await merchant.NotificationsAsync("entity_id=" + order))[0]!.Str("id");
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(id))["attempts"]!.AsArray().Count == 1);
        Assert.Equal(0, await DeliveriesTimedAsync());

        // The receiver is back; the merchant resends rather than wait for the retry (the clock
        // stands still, so no retry comes): that resend is the notification's delivery.
        Receiver.Status = 200;
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(id)).Str("status") == "succeeded");
        await HeraldHost.EventuallyAsync(async () => await DeliveriesTimedAsync() == 1);

        // Sent once more, it was delivered already: no second delivery is timed.
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(id))["attempts"]!.AsArray().Count == 3);
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"herald_attempts_total\{[^}]*outcome=""succeeded"",trigger=""manual""\} 2\b"));
        Assert.Equal(1, await DeliveriesTimedAsync());
    }

    [Fact]
    public async Task Metrics_SayTheDatabaseIsUp_WhileItAnswers()
    {
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"(?m)^herald_database_up(\{[^}]*\})? 1\b"));
    }

    [Fact]
    public async Task Metrics_ShowTheDeadNotifications_BeforeTheFirstDies()
    {
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"(?m)^herald_notifications_dead_total(\{[^}]*\})? 0\b"));
    }

    [Fact]
    public async Task Metrics_CountANotificationDead_OnceWhenItsRetriesRunOut()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "exponential" });
        Receiver.Status = 500;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        var id = (await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1)).Str("id");
        // Failing and retried: not dead yet.
        Assert.Equal(0, await ReadAsync("herald_notifications_dead_total"));

        // Its retries run out once three days are over.
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () =>
        {
            Herald.Clock.Advance(TimeSpan.FromHours(1));
            return (await merchant.NotificationAsync(id)).Str("status") == "dead";
        }, TimeSpan.FromSeconds(90));
        await HeraldHost.EventuallyAsync(async () => await ReadAsync("herald_notifications_dead_total") == 1);

        // Resent by hand and failing again, it is still the one notification that died.
        await merchant.PostJsonAsync($"/v1/notifications/{id}/resend", new { }, 202);
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"herald_attempts_total\{[^}]*outcome=""failed"",trigger=""manual""\} 1\b"));
        Assert.Equal(1, await ReadAsync("herald_notifications_dead_total"));
    }

    [Fact]
    public async Task Metrics_QueueDepthAndOldestAge_GrowWhileNotificationsWait_AndFallOnceTheyAreDelivered()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { retry = "hourly" });
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        Herald.Clock.Advance(TimeSpan.FromMinutes(1));
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 2, currency = "BRL" });

        // Held for the paused endpoint, both are counted at the next sample, the oldest aged from its recording.
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(15), async () => await ReadAsync("herald_queue_depth") == 2);
        Assert.InRange(await ReadAsync("herald_queue_oldest_age_seconds"), 75, (Herald.Clock.GetUtcNow() - HeraldHost.Start).TotalSeconds);
        // Still waiting an hour later: the oldest is an hour older.
        await Herald.AdvanceUntilAsync(TimeSpan.FromHours(1), async () => await ReadAsync("herald_queue_oldest_age_seconds") >= 3675);
        Assert.Equal(2, await ReadAsync("herald_queue_depth"));

        // Resumed into a failing receiver: tried, and waiting for their retry, they are still pending.
        var waited = await ReadAsync("herald_queue_oldest_age_seconds");
        Receiver.Status = 500;
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/resume", new { }, 200);
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => (await merchant.NotificationsAsync("limit=10")).All(n => n!["attempt_count"]!.GetValue<int>() == 1));
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(15), async () => await ReadAsync("herald_queue_oldest_age_seconds") > waited);
        Assert.Equal(2, await ReadAsync("herald_queue_depth"));

        // Delivered by their retry an hour later: the next sample finds the queue empty.
        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromHours(1), async () =>
            await ReadAsync("herald_queue_depth") == 0 && await ReadAsync("herald_queue_oldest_age_seconds") == 0);
        Assert.Equal(4, Receiver.Received.Count);
    }

    [Fact]
    public async Task Metrics_CountAResendMadeWhileItsCallerWaits_AsThePortalsResendIs_UntilItIsAnswered()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        await Receiver.WaitForAsync(1);
        var id = (await merchant.NotificationsAsync("limit=1"))[0]!.Str("id");
        using var admin = Herald.As(HeraldHost.AdminKey);
        var merchantId = (await admin.GetJsonAsync("/v1/merchants?limit=1"))["data"]![0].Str("id");

        // The portal's Resend, sent while the merchant waits for its result, held by the receiver.
        Receiver.Hold();
        var resend = Herald.Services.GetRequiredService<ResendQueue>().ResendNowAsync(merchantId, id, CancellationToken.None);
        await Receiver.WaitForAsync(2);
        Assert.Equal(1, await ReadAsync("herald_resends_waiting"));
        Receiver.Release();
        Assert.True((await resend)!.Succeeded);
        Assert.Equal(0, await ReadAsync("herald_resends_waiting"));
    }

    [Fact]
    public async Task Metrics_CountARecoversResendsWaiting_UntilEachIsAnswered()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1 + i, currency = "BRL" });
        }
        await Receiver.WaitForAsync(3);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("limit=10")).All(n => n!["attempt_count"]!.GetValue<int>() == 1));

        // The receiver back, but holding what it gets: the three resends count until they are answered.
        Receiver.Status = 200;
        Receiver.Hold();
        var recovered = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        Assert.Equal(3, recovered["queued"]!.GetValue<int>());
        await Receiver.WaitForAsync(6);
        Assert.Equal(3, await ReadAsync("herald_resends_waiting"));
        Receiver.Release();
        await HeraldHost.EventuallyAsync(async () => await ReadAsync("herald_resends_waiting") == 0);
    }

    [Fact]
    public async Task Metrics_CountAnOrderedRecoversRun_UntilItStopsAtItsFirstFailure()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { ordered = true });
        Receiver.Status = 500;
        for (var i = 0; i < 3; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1 + i, currency = "BRL" });
        }
        await Receiver.WaitForAsync(3);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("limit=10")).All(n => n!["attempt_count"]!.GetValue<int>() == 1));

        // One run, sent one at a time: the first being sent, the other two wait behind it.
        Receiver.Hold();
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = "2026-11-01T00:00:00Z" }, 202);
        await Receiver.WaitForAsync(4);
        Assert.Equal(3, await ReadAsync("herald_resends_waiting"));
        // The first fails: the run stops there, and what it did not send waits no more.
        Receiver.Release();
        await HeraldHost.EventuallyAsync(async () => await ReadAsync("herald_resends_waiting") == 0);
        await Task.Delay(300);
        Assert.Equal(4, Receiver.Received.Count);
    }

    [Fact]
    public async Task HealthAndReadiness_Answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Herald.Client.GetAsync("/healthz")).StatusCode);
        // Ready once the database answers and the delivery loop has started.
        await HeraldHost.EventuallyAsync(async () => (await Herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        Assert.Equal("ready", (await Herald.Client.GetJsonAsync("/readyz")).Str("status"));
    }

    [Fact]
    public async Task DatabaseFileRemovedUnderARunningNode_IsNotReady_AndTakesNoChange()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await HeraldHost.EventuallyAsync(async () => (await Herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        foreach (var file in Directory.EnumerateFiles(Herald.DataDirectory, "herald.db*"))
        {
            File.Delete(file);
        }

        using var ready = await Herald.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("database file gone", (await ready.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!.Str("status"));
        // A change the next start would not find is not answered as made.
        using var order = await merchant.PostAsJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        await ApiErrors.ExpectErrorAsync(order, 503, "Herald's database file is gone: nothing can be written until the operator restores it and restarts Herald");
        // So too once no pooled connection is left to read the removed file through: a connection
        // opened anew finds no file (and makes no empty one for the next start to take).
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var again = await merchant.PostAsJsonAsync("/v1/payment_orders", new { amount = 11, currency = "BRL" });
        await ApiErrors.ExpectErrorAsync(again, 503, "Herald's database file is gone: nothing can be written until the operator restores it and restarts Herald");
        Assert.False(File.Exists(Path.Combine(Herald.DataDirectory, "herald.db")));
    }

    [Fact]
    public async Task DatabaseLogRemovedUnderARunningNode_IsNotReady_AndTakesNoChange()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await HeraldHost.EventuallyAsync(async () => (await Herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        // The log alone (what was written since the last checkpoint): the next start would not find it.
        File.Delete(Path.Combine(Herald.DataDirectory, "herald.db-wal"));

        using var ready = await Herald.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("database file gone", (await ready.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!.Str("status"));
        await HeraldHost.EventuallyAsync(async () =>
        {
            using var order = await merchant.PostAsJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
            return order.StatusCode == HttpStatusCode.ServiceUnavailable;
        });
        Assert.Empty((await merchant.GetJsonAsync("/v1/events"))["data"]!.AsArray());

        // Its metrics say so at the next queue sample (every 15 s): the queue's figures are no longer current.
        Herald.Clock.Advance(TimeSpan.FromSeconds(15));
        await HeraldHost.EventuallyAsync(async () =>
            System.Text.RegularExpressions.Regex.IsMatch(await ScrapeAsync(), @"(?m)^herald_database_up(\{[^}]*\})? 0\b"));
    }
}
