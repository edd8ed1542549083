using System.Net;
using Herald.Delivery;
using Herald.Delivery.Egress;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Security;

public sealed class EgressTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("0.0.0.0", "this network")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "metadata")]
    [InlineData("100.64.0.1", "carrier-grade")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::ffff:169.254.169.254", "metadata")]
    public void ForbiddenAddresses_AreRefusedWithTheirReason(string address, string reason)
    {
        var refusal = new EgressPolicy(allowLoopback: false, []).Refusal(IPAddress.Parse(address));
        Assert.NotNull(refusal);
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700::1111")]
    public void PublicAddresses_AreAllowed(string address) =>
        Assert.Null(new EgressPolicy(allowLoopback: false, []).Refusal(IPAddress.Parse(address)));

    [Fact]
    public void DevelopmentAllowsLoopback_AndTheAllowListOpensPrivateRanges()
    {
        Assert.Null(new EgressPolicy(allowLoopback: true, []).Refusal(IPAddress.Loopback));
        Assert.Null(new EgressPolicy(allowLoopback: true, []).Refusal(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.NotNull(new EgressPolicy(allowLoopback: true, []).Refusal(IPAddress.Parse("10.0.0.1")));
        Assert.Null(new EgressPolicy(allowLoopback: false, ["10.20.0.0/16"]).Refusal(IPAddress.Parse("10.20.3.4")));
        Assert.NotNull(new EgressPolicy(allowLoopback: false, ["10.20.0.0/16"]).Refusal(IPAddress.Parse("10.21.3.4")));
    }

    [Fact]
    public async Task HostnameResolvingToLoopback_IsRefusedAtConnectTime_AndTheAttemptSaysWhy()
    {
        await using var herald = await HeraldHost.StartAsync(development: false, configure: b =>
            b.Services.Configure<DeliveryOptions>(o => o.HostResolver = (_, _) => Task.FromResult(new[] { IPAddress.Loopback })));
        using var merchant = await herald.NewMerchantAsync();
        // The name passes the URL rules; only its resolved address is forbidden.
        await merchant.AddEndpointAsync("https://merchant.example/hooks", "thin");
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        System.Text.Json.Nodes.JsonObject n = null!;
        await HeraldHost.EventuallyAsync(async () =>
        {
            n = await merchant.NotificationOfAsync(order.Str("id"), "PAYMENT_ORDER.OPENED");
            return n["attempt_count"]!.GetValue<int>() >= 1;
        });
        var attempt = n["attempts"]![0]!;
        Assert.Null(attempt["status_code"]);
        Assert.Contains("refused to connect to 127.0.0.1: a loopback address", attempt.Str("error"), StringComparison.Ordinal);
        Assert.Equal("pending", n.Str("status"));
    }
}
