using System.Text;
using Herald.Server.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Server.Tests.Security;

public sealed class SecretRotationTests : HeraldWithReceiver
{
    private bool Verifies(string secret, ReceivedRequest r) => WebhookSignature.Verify(secret, r.Headers["webhook-id"], r.Headers["webhook-timestamp"],
        r.Headers["webhook-signature"], Encoding.UTF8.GetBytes(r.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5));

    [Fact]
    public async Task RotatedSecret_BothSignDuringTheGrace_ThenOnlyTheNewOne()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, old) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var rotated = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 3600 }, 200);
        var fresh = rotated.Str("secret");
        Assert.StartsWith("whsec_", fresh, StringComparison.Ordinal);
        Assert.NotEqual(old, fresh);
        // The secret is shown on rotation only.
        Assert.Null((await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["secret"]);

        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        var during = await Receiver.WaitForAsync(1);
        Assert.Equal(2, during.Headers["webhook-signature"].Split(' ').Length);
        Assert.True(Verifies(old, during));
        Assert.True(Verifies(fresh, during));

        Herald.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 2, currency = "BRL" });
        var after = await Receiver.WaitForAsync(2);
        Assert.Single(after.Headers["webhook-signature"].Split(' '));
        Assert.True(Verifies(fresh, after));
        Assert.False(Verifies(old, after));
    }

    [Fact]
    public async Task Rotation_RefusesAGraceOverSevenDays_AndOtherMerchantsEndpoints()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var error = await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 8 * 24 * 3600 }, 400);
        Assert.Contains("7 days", error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        using var other = await Herald.NewMerchantAsync("Other");
        await other.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { }, 404);
    }
}
