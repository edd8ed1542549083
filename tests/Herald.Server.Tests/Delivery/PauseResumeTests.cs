using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class PauseResumeTests : HeraldWithReceiver
{
    [Fact]
    public async Task PausedEndpoint_AccumulatesEveryNotification_AndResumeDeliversThemAll()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var paused = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/pause", new { }, 200);
        Assert.False(paused["enabled"]!.GetValue<bool>());
        Assert.Equal("paused by the merchant", paused.Str("disabled_reason"));
        Assert.NotNull(paused["disabled_at"]!.GetValue<string>());

        const int orders = 15;
        for (var i = 0; i < orders; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" });
        }
        Herald.Clock.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(500);
        Assert.Empty(Receiver.Received);
        Assert.Equal(orders, (await merchant.NotificationsAsync("status=pending&limit=100")).Count);

        var resumed = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/resume", new { }, 200);
        Assert.True(resumed["enabled"]!.GetValue<bool>());
        Assert.Null(resumed["disabled_reason"]);
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => Receiver.Received.Count >= orders);
        await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count == orders);
        // Each once: a pause and a resume send nothing twice.
        Assert.Equal(orders, Receiver.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.Equal(orders, Receiver.Received.Count);
    }
}
