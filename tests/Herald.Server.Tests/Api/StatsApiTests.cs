using Microsoft.Extensions.DependencyInjection;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Api;

public sealed class StatsApiTests : HeraldWithReceiver
{
    [Fact]
    public async Task Stats_CountTheMerchantsAttemptsByHourAndByEndpoint_AndNoOneElses()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        for (var i = 0; i < 2; i++)
        {
            var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })).Str("id");
            await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        }
        Receiver.Status = 500;
        var failing = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 12, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(failing, "PAYMENT_ORDER.OPENED", 1);
        using var stranger = await Herald.NewMerchantAsync("Stranger");
        // A moment on (the window ends before now), well before the failed one's first retry.
        Herald.Clock.Advance(TimeSpan.FromSeconds(1));

        var stats = await merchant.GetJsonAsync("/v1/stats");

        // The last 24 hours, an entry an hour (the window's first hour partly), the attempts in the last.
        var hours = stats["hours"]!.AsArray();
        Assert.InRange(hours.Count, 24, 25);
        Assert.Equal(2, hours.Sum(h => h!["succeeded"]!.GetValue<int>()));
        Assert.Equal(1, hours.Sum(h => h!["failed"]!.GetValue<int>()));
        var only = Assert.Single(stats["endpoints"]!.AsArray())!;
        Assert.Equal(endpoint, only.Str("endpoint_id"));
        Assert.Equal(3, only["attempts"]!.GetValue<int>());
        Assert.Equal(2, only["succeeded"]!.GetValue<int>());
        Assert.Equal(0.6667, only["success_rate"]!.GetValue<double>());
        Assert.True(only["p95_ms"]!.GetValue<int>() >= only["p50_ms"]!.GetValue<int>());
        Assert.Empty((await stranger.GetJsonAsync("/v1/stats"))["endpoints"]!.AsArray());

        // A window before any of it counts nothing.
        var before = await merchant.GetJsonAsync("/v1/stats?since=2026-01-01T00:00:00Z&until=2026-01-01T03:00:00Z");
        Assert.Equal(3, before["hours"]!.AsArray().Count);
        Assert.Empty(before["endpoints"]!.AsArray());
    }

    [Theory]
    [InlineData("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since must be before until")]
    [InlineData("since=2026-01-01T00:00:00Z&until=2026-01-09T00:00:00Z", "since may be at most 7 days before until (now, when until is not given)")]
    [InlineData("since=2000-01-01T00:00:00Z", "since may be at most 7 days before until (now, when until is not given)")]
    [InlineData("since=yesterday", "since must be an ISO 8601 time")]
    [InlineData("until=0001-01-01", "until must be after 0001-01-01T00:00:00Z, the first time there is")]
    [InlineData("since=2026-01-01T00:00:00+02:00", "its offset's + arrived as a space: in a URL, write + as %2B")]
    public async Task Stats_OverABadWindow_Are400(string query, string message)
    {
        using var merchant = await Herald.NewMerchantAsync();
        using var response = await merchant.GetAsync("/v1/stats?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains(message, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_SinceSevenDaysAgoAsTheCallerReckonedIt_AreTheLastSevenDays_ButLongerIs400()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var now = Herald.Clock.GetUtcNow();
        string At(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        // The caller's "now less 7 days" reaches the node a moment later than 7 days back.
        var week = await merchant.GetJsonAsync($"/v1/stats?since={At(now - TimeSpan.FromDays(7) - TimeSpan.FromSeconds(2))}");
        Assert.Equal(now - TimeSpan.FromDays(7), DateTimeOffset.Parse(week.Str("since"), System.Globalization.CultureInfo.InvariantCulture));
        using var longer = await merchant.GetAsync($"/v1/stats?since={At(now - TimeSpan.FromDays(7) - TimeSpan.FromMinutes(2))}");
        Assert.Equal(400, (int)longer.StatusCode);
        // With until given, the window is as asked.
        using var exact = await merchant.GetAsync($"/v1/stats?since={At(now - TimeSpan.FromDays(7) - TimeSpan.FromSeconds(2))}&until={At(now)}");
        Assert.Equal(400, (int)exact.StatusCode);
    }

    [Fact]
    public async Task Stats_EndingInTheFirstDayThereIs_CountFromItsStart()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var stats = await merchant.GetJsonAsync("/v1/stats?until=0001-01-01T12:00:00Z");
        Assert.Equal("0001-01-01T00:00:00.000Z", stats.Str("since"));
        Assert.Equal(12, stats["hours"]!.AsArray().Count);
        var offset = await merchant.GetJsonAsync("/v1/stats?since=2026-01-01T00:00:00%2B02:00&until=2026-01-01T03:00:00Z");
        Assert.Equal("2025-12-31T22:00:00.000Z", offset.Str("since"));
    }

    [Fact]
    public async Task AMerchantsStatsReads_TwoAtOnce_TheThirdIs429_WhileOtherMerchantsReadOn()
    {
        HeldStatsStore? held = null;
        await using var node = await HeraldHost.StartAsync(configure: b => b.Services.AddSingleton<global::Herald.Storage.Abstractions.IHeraldStore>(sp =>
            (global::Herald.Storage.Abstractions.IHeraldStore)(held = HeldStatsStore.Around(sp.GetRequiredService<global::Herald.Storage.Sqlite.SqliteStore>()))));
        using var admin = node.As(HeraldHost.AdminKey);
        var made = await admin.PostJsonAsync("/v1/merchants", new { name = "Busy" }, 201);
        using var busy = node.As(made.Str("api_key"));
        using var other = await node.NewMerchantAsync("Other");
        held!.HeldMerchant = made.Str("id");

        // Two reads of the busy merchant's stats under way (held in the database)...
        var first = busy.GetAsync("/v1/stats");
        var second = busy.GetAsync("/v1/stats");
        await HeraldHost.EventuallyAsync(() => Task.FromResult(held.Started == 2));

        // ...and a third is refused at once, without reaching the database.
        var third = await busy.GetAsync("/v1/stats");
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("1", third.Headers.RetryAfter?.ToString());
        Assert.Contains("2 stats reads of this merchant are under way already", await third.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, held.Started);
        // Another merchant is not held up by it.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await other.GetAsync("/v1/stats")).StatusCode);

        held.Release.SetResult();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await second).StatusCode);
        // Their turns are given back once answered.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await busy.GetAsync("/v1/stats")).StatusCode);
    }

    /// <summary>The node's store, but one merchant's stats reads wait until released.</summary>
    public class HeldStatsStore : System.Reflection.DispatchProxy
    {
        private global::Herald.Storage.Abstractions.IHeraldStore _store = null!;
        private int _started;

        public string? HeldMerchant { get; set; }

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Started => Volatile.Read(ref _started);

        public static HeldStatsStore Around(global::Herald.Storage.Abstractions.IHeraldStore store)
        {
            var proxy = Create<global::Herald.Storage.Abstractions.IHeraldStore, HeldStatsStore>();
            var held = (HeldStatsStore)(object)proxy;
            held._store = store;
            return held;
        }

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(global::Herald.Storage.Abstractions.IHeraldStore.DeliveryStatsAsync) && Equals(args![0], HeldMerchant))
            {
                Interlocked.Increment(ref _started);
                return HeldAsync(method, args);
            }
            try
            {
                return method.Invoke(_store, args);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }

        private async Task<global::Herald.Storage.Model.DeliveryStats> HeldAsync(System.Reflection.MethodInfo method, object?[] args)
        {
            await Release.Task;
            return await (Task<global::Herald.Storage.Model.DeliveryStats>)method.Invoke(_store, args)!;
        }
    }

    [Theory]
    [InlineData(20_000, 20_001, 0.9999)]
    [InlineData(1, 20_001, 0.0001)]
    [InlineData(2, 3, 0.6667)]
    [InlineData(5, 5, 1.0)]
    [InlineData(0, 5, 0.0)]
    public void ASuccessRate_IsOneOnlyWhenEveryAttemptSucceeded_AndZeroOnlyWhenNoneDid(int succeeded, int attempts, double shown)
    {
        // Rounded plainly, 20,000 of 20,001 read as 1: an alert on success_rate < 1 missed the failure.
        Assert.Equal(shown, global::Herald.Server.Api.StatsResponse.Rate(new global::Herald.Storage.Model.EndpointStats("ep_x", attempts, succeeded, 0, 0)));
    }

    [Fact]
    public async Task Stats_OfADatabaseThatTakesNoWrites_StillAnswer_CountingHoursNotKeptFromTheirAttempts()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var logs = new CapturedLogs("Herald.Server.Api");
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, configure: b => b.Logging.AddProvider(logs));
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        await merchant.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
        // Its hour closed, so a read would keep its figures, on a database left read-only (a standby
        // a failover left the node on).
        herald.Clock.Advance(TimeSpan.FromHours(3));
        await db.SetReadOnlyAsync(true);

        // (A request may first meet a pooled connection the server cut, which says unreachable.)
        System.Text.Json.Nodes.JsonObject? stats = null;
        await HeraldHost.EventuallyAsync(async () =>
        {
            using var answer = await merchant.GetAsync("/v1/stats");
            stats = answer.IsSuccessStatusCode ? System.Text.Json.Nodes.JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject() : null;
            return stats is not null;
        });

        Assert.Equal(1, stats!["hours"]!.AsArray().Sum(h => h!["succeeded"]!.GetValue<int>()));
        Assert.Equal(endpoint, Assert.Single(stats["endpoints"]!.AsArray())!.Str("endpoint_id"));
        // The operator is told, in one line without a stack, once a minute: a second read says nothing more.
        var said = Assert.Single(logs.Entries, e => e.EventId == 3003);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, said.Level);
        Assert.Matches(@"^Stats of merchant mer_\w+: its closed hours' figures could not be kept \(\w+Exception: .+\); the read answered from their attempts", said.Message);
        Assert.Null(said.Exception);
        using (await merchant.GetAsync("/v1/stats"))
        {
        }
        Assert.Single(logs.Entries, e => e.EventId == 3003);
    }
}
