using System.Net.Http.Json;
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
    public async Task EndpointTest_DuringAGrace_IsSignedByEverySecretADeliveryIs()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, old) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var fresh = (await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 3600 }, 200)).Str("secret");

        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        var delivered = await Receiver.WaitForAsync(1);
        Assert.True((await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/test", new { }, 200))["succeeded"]!.GetValue<bool>());
        var tested = await Receiver.WaitForAsync(2);
        Assert.Equal(delivered.Headers["webhook-signature"].Split(' ').Length, tested.Headers["webhook-signature"].Split(' ').Length);
        Assert.True(Verifies(old, tested));
        Assert.True(Verifies(fresh, tested));

        Herald.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/test", new { }, 200);
        var after = await Receiver.WaitForAsync(3);
        Assert.Single(after.Headers["webhook-signature"].Split(' '));
        Assert.True(Verifies(fresh, after));
        Assert.False(Verifies(old, after));
    }

    [Fact]
    public async Task Rotation_PastFiveSecretsSigning_Is409ChangingNothing_AndWithoutAGraceEndsEveryOlderSecret()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        for (var i = 0; i < 4; i++)
        {
            await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 604800 }, 200);
        }

        // A sixth secret beside the five signing is refused, in the API's error shape, saying what to do.
        var refused = await ApiErrors.ExpectErrorAsync(
            await merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 604800 }), 409, "at most 5 sign at once");
        Assert.Equal("Conflict", refused.Str("error"));
        var message = refused["message"]![0]!.GetValue<string>();
        Assert.Contains("grace_seconds 0", message, StringComparison.Ordinal);
        Assert.Contains("nothing changed", message, StringComparison.Ordinal);
        // The default grace is a grace too.
        await ApiErrors.ExpectErrorAsync(await merchant.PostAsync($"/v1/endpoints/{endpoint}/rotate_secret", null), 409, "at most 5 sign at once");

        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        Assert.Equal(5, (await Receiver.WaitForAsync(1)).Headers["webhook-signature"].Split(' ').Length);

        // Without a grace: the new secret alone signs, deliveries and tests alike.
        var alone = (await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 0 }, 200)).Str("secret");
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 2, currency = "BRL" });
        var delivered = await Receiver.WaitForAsync(2);
        Assert.Single(delivered.Headers["webhook-signature"].Split(' '));
        Assert.True(Verifies(alone, delivered));
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/test", new { }, 200);
        var tested = await Receiver.WaitForAsync(3);
        Assert.Single(tested.Headers["webhook-signature"].Split(' '));
        Assert.True(Verifies(alone, tested));

        // And there is room again for rotations with a grace.
        await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 604800 }, 200);
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
