using Herald.Server.Tests.Infrastructure;

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
    [InlineData("since=2026-01-01T00:00:00Z&until=2026-01-09T00:00:00Z", "at most 7 days apart")]
    [InlineData("since=yesterday", "since must be an ISO 8601 time")]
    [InlineData("until=0001-01-01", "since must be before until")]
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
    public async Task Stats_EndingInTheFirstDayThereIs_CountFromItsStart()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var stats = await merchant.GetJsonAsync("/v1/stats?until=0001-01-01T12:00:00Z");
        Assert.Equal("0001-01-01T00:00:00.000Z", stats.Str("since"));
        Assert.Equal(12, stats["hours"]!.AsArray().Count);
        var offset = await merchant.GetJsonAsync("/v1/stats?since=2026-01-01T00:00:00%2B02:00&until=2026-01-01T03:00:00Z");
        Assert.Equal("2025-12-31T22:00:00.000Z", offset.Str("since"));
    }
}
