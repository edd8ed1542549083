using System.Net;
using Herald.Delivery;
using Herald.Delivery.Egress;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Security;

public sealed class EgressTests
{
    /// <summary>A notification for https://merchant.example/hooks, as a worker would hand it to the sender.</summary>
    internal static Herald.Storage.Model.ClaimedNotification ToMerchantExample(int timeoutSeconds) => new()
    {
        Id = "ntf_1", MerchantId = "mer_1", EventId = "evt_1", EndpointId = "ep_1", Url = "https://merchant.example/hooks",
        Format = Herald.Endpoints.PayloadFormat.Thin, Success = Herald.Endpoints.SuccessRule.Any2xx, Retry = Herald.Retry.RetryPolicy.Exponential,
        TimeoutSeconds = timeoutSeconds, Secrets = [Herald.Signing.WebhookSignature.NewSecret()], Payload = "{}", Status = "pending",
        AttemptCount = 0, Failures = 0, CreatedAt = DateTimeOffset.UtcNow,
    };

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
    // NAT64 and 6to4 addresses are judged by the IPv4 address the gateway connects to.
    [InlineData("64:ff9b::a00:1", "private")]
    [InlineData("64:ff9b::7f00:1", "loopback")]
    [InlineData("64:ff9b::a9fe:a9fe", "metadata")]
    [InlineData("2002:a00:1::1", "private")]
    [InlineData("2002:7f00:1::1", "loopback")]
    // So are IPv4-translated (SIIT) addresses, ::ffff:0:a.b.c.d.
    [InlineData("::ffff:0:7f00:1", "loopback")]
    [InlineData("::ffff:0:a00:1", "private")]
    [InlineData("192.88.99.1", "6to4 relay")]
    [InlineData("64:ff9b:1::a00:1", "local-use translation")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo")]
    [InlineData("::7f00:1", "IPv4-compatible")]
    [InlineData("100::1", "discard-only")]
    [InlineData("2001:10::1", "ORCHID")]
    [InlineData("2001:2::1", "benchmarking")]
    [InlineData("3fff::1", "documentation")]
    [InlineData("fec0::1", "site-local")]
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
    [InlineData("64:ff9b::5db8:d70e")]
    [InlineData("2002:5db8:d70e::1")]
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
        Assert.Null(new EgressPolicy(allowLoopback: false, ["10.20.0.0/16"]).Refusal(IPAddress.Parse("64:ff9b::a14:304")));
    }

    [Theory]
    [InlineData("fd00::/8", "fd00:ec2::254", "fd00:ec2::253")]
    [InlineData("100.64.0.0/10", "100.100.100.200", "100.100.100.201")]
    public void AnAllowedNetwork_OpensItsAddresses_ButNotACloudsMetadataServiceAmongThem(string allowed, string metadata, string neighbour)
    {
        var policy = new EgressPolicy(allowLoopback: false, [allowed]);
        Assert.Equal("a cloud metadata service address", policy.Refusal(IPAddress.Parse(metadata)));
        Assert.Null(policy.Refusal(IPAddress.Parse(neighbour)));
    }

    public static TheoryData<string> EveryForbiddenRange() =>
    [
        "127.0.0.1", "0.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1",
        "224.0.0.1", "240.0.0.1", "::1", "::", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:192.168.0.1",
        "64:ff9b::a00:1", "2002:a00:1::1", "::ffff:0:a9fe:a9fe",
    ];

    [Theory]
    [MemberData(nameof(EveryForbiddenRange))]
    public async Task NameResolvingIntoAForbiddenRange_IsRefusedAtConnectTime(string address)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new DeliveryOptions
        {
            HostResolver = (_, _) => Task.FromResult(new[] { IPAddress.Parse(address) }),
        });
        using var sender = new Herald.Delivery.Sending.WebhookSender(options, TimeProvider.System);
        var result = await sender.SendAsync(ToMerchantExample(timeoutSeconds: 5), 1, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Null(result.StatusCode);
        Assert.StartsWith("refused to connect to ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameThatDoesNotResolve_IsToldLikeOneResolvingToAForbiddenAddress_SoInternalNamesCannotBeMapped()
    {
        async Task<string?> ErrorWhenResolvedBy(Func<string, CancellationToken, Task<IPAddress[]>> resolver)
        {
            var options = Microsoft.Extensions.Options.Options.Create(new DeliveryOptions { HostResolver = resolver });
            using var sender = new Herald.Delivery.Sending.WebhookSender(options, TimeProvider.System);
            return (await sender.SendAsync(ToMerchantExample(timeoutSeconds: 5), 1, CancellationToken.None)).Error;
        }

        var unknown = await ErrorWhenResolvedBy((_, _) => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
        var none = await ErrorWhenResolvedBy((_, _) => Task.FromResult(Array.Empty<IPAddress>()));
        var internalName = await ErrorWhenResolvedBy((_, _) => Task.FromResult(new[] { IPAddress.Parse("10.1.2.3") }));
        var metadata = await ErrorWhenResolvedBy((_, _) => Task.FromResult(new[] { IPAddress.Parse("169.254.169.254") }));
        // One public address and one internal: refused all the same.
        var mixed = await ErrorWhenResolvedBy((_, _) => Task.FromResult(new[] { IPAddress.Parse("93.184.215.14"), IPAddress.Parse("127.0.0.1") }));

        Assert.Equal("refused to connect to merchant.example: it resolves to no address endpoints may reach (it does not resolve, or to a private, loopback or reserved address)", unknown);
        Assert.All(new[] { none, internalName, metadata, mixed }, error => Assert.Equal(unknown, error));
    }

    [Theory]
    [InlineData("https://user:pass@merchant.example/hooks", "must not contain credentials")]
    [InlineData("https://merchant.example/hooks#orders", "must not contain a fragment")]
    [InlineData("https://merchant.example/hooks#", "must not contain a fragment")]
    [InlineData("ftp://merchant.example/hooks", "must use https")]
    [InlineData("https://10.0.0.7/hooks", "private address")]
    [InlineData("https://[::1]/hooks", "loopback")]
    [InlineData("https://127。0。0。1/hooks", "loopback address")]
    [InlineData("https://169.254.169.254./hooks", "link-local address")]
    [InlineData("https://LOCALHOST./hooks", "loopback host")]
    [InlineData("https://shop.localhost/hooks", "loopback host")]
    [InlineData("https://localhost.localdomain/hooks", "loopback host")]
    [InlineData("https://IP6-LOCALHOST/hooks", "loopback host")]
    [InlineData("https://merchant.example:0/hooks", "port 0")]
    [InlineData("not a url", "not an absolute URL")]
    [InlineData("https://merchant.example:99999/hooks", "url is not an absolute URL: its port is beyond 65535")]
    [InlineData("https://merchant.example:123456789012/hooks", "url is not an absolute URL: its port is beyond 65535")]
    [InlineData("https://shop.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/hooks", "url has a part of its host name longer than 63 characters")]
    [InlineData("https://shop.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example/hooks", "url is not an absolute URL: a part of its host name is longer than 63 characters")]
    public async Task EndpointUrlRules_RefuseBadUrlsAtCreation(string url, string reason)
    {
        await using var herald = await HeraldHost.StartAsync(development: false);
        using var merchant = await herald.NewMerchantAsync();
        var error = await merchant.PostJsonAsync("/v1/endpoints", new { url, format = "thin" }, 400);
        Assert.Contains(reason, error["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var tooLong = await merchant.PostJsonAsync("/v1/endpoints", new { url = "https://merchant.example/" + new string('a', 2100), format = "thin" }, 400);
        Assert.Contains("longer than 2048", tooLong["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedNetwork_LetsAnOperatorDeliverInsideAPrivateNetwork()
    {
        await using var herald = await HeraldHost.StartAsync(development: false, tune: o => o.AllowedNetworks.Add("10.20.0.0/16"));
        using var merchant = await herald.NewMerchantAsync();
        await merchant.PostJsonAsync("/v1/endpoints", new { url = "https://10.20.1.2/hooks", format = "thin" });
        await merchant.PostJsonAsync("/v1/endpoints", new { url = "https://10.21.1.2/hooks", format = "thin" }, 400);
    }

    [Fact]
    public async Task PlainHttpEndpoint_MadeInDevelopmentMode_IsNeverSentTo_ByANodeOutsideIt()
    {
        // Seed 003: every notification travels encrypted. An http endpoint made while the node ran
        // with --dev stays in its data folder; a node started without it must not send to it in
        // the clear, even where its address is allowed.
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            string key;
            string endpointId;
            await using (var development = await HeraldHost.StartAsync(development: true, dataDirectory: data))
            {
                using var made = await development.NewMerchantAsync();
                key = made.DefaultRequestHeaders.Authorization!.Parameter!;
                (endpointId, _) = await made.AddEndpointAsync(receiver.Url, "transaction");
            }
            await using var production = await HeraldHost.StartAsync(development: false, dataDirectory: data, tune: o => o.AllowedNetworks.Add("127.0.0.0/8"));
            using var merchant = production.As(key);
            var id = await merchant.NewTransactionAsync();
            System.Text.Json.Nodes.JsonObject n = null!;
            await HeraldHost.EventuallyAsync(async () =>
            {
                n = await merchant.NotificationOfAsync(id, "TRANSACTION.INIT");
                return n["attempt_count"]!.GetValue<int>() >= 1;
            });
            var attempt = n["attempts"]![0]!;
            Assert.Null(attempt["status_code"]);
            Assert.Equal("refused to send over plain http: the endpoint's url must use https (plain http is allowed only in development mode, herald serve --dev)", attempt.Str("error"));
            Assert.Equal("pending", n.Str("status"));

            // Nor does an endpoint's test, nor a resend by hand.
            var test = await merchant.PostJsonAsync($"/v1/endpoints/{endpointId}/test", new { }, 200);
            Assert.False(test["succeeded"]!.GetValue<bool>());
            Assert.StartsWith("refused to send over plain http", test.Str("error"), StringComparison.Ordinal);
            await merchant.PostJsonAsync($"/v1/notifications/{n.Str("id")}/resend", new { }, 202);
            await HeraldHost.EventuallyAsync(async () => (await merchant.NotificationAsync(n.Str("id")))["attempt_count"]!.GetValue<int>() >= 2);
            Assert.Empty(receiver.Received);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
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
        Assert.Equal("refused to connect to merchant.example: it resolves to no address endpoints may reach (it does not resolve, or to a private, loopback or reserved address)", attempt.Str("error"));
        Assert.Equal("pending", n.Str("status"));
    }
}

/// <summary>Tests that change the process-wide default proxy run alone.</summary>
[CollectionDefinition(nameof(ProcessWideProxy), DisableParallelization = true)]
public sealed class ProcessWideProxy;

[Collection(nameof(ProcessWideProxy))]
public sealed class EgressProxyTests
{
    [Fact]
    public async Task ProxyFromTheEnvironment_IsNotUsed_SoTheGuardStillJudgesTheEndpointsAddress()
    {
        // An allowed proxy (HTTPS_PROXY and the like set HttpClient.DefaultProxy): through it, the
        // guard would only ever see the proxy's address and the proxy would reach anything.
        using var proxy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        var reached = 0;
        _ = Task.Run(async () =>
        {
            using var client = await proxy.AcceptTcpClientAsync();
            Interlocked.Exchange(ref reached, 1);
        });
        var previous = HttpClient.DefaultProxy;
        HttpClient.DefaultProxy = new WebProxy($"http://127.0.0.1:{((IPEndPoint)proxy.LocalEndpoint).Port}");
        try
        {
            var delivery = new DeliveryOptions { HostResolver = (_, _) => Task.FromResult(new[] { IPAddress.Parse("10.0.0.1") }) };
            delivery.AllowedNetworks.Add("127.0.0.1/32");
            using var sender = new Herald.Delivery.Sending.WebhookSender(Microsoft.Extensions.Options.Options.Create(delivery), TimeProvider.System);
            var result = await sender.SendAsync(EgressTests.ToMerchantExample(timeoutSeconds: 3), 1, CancellationToken.None);
            Assert.Equal("refused to connect to merchant.example: it resolves to no address endpoints may reach (it does not resolve, or to a private, loopback or reserved address)", result.Error);
            Assert.Equal(0, Volatile.Read(ref reached));
        }
        finally
        {
            HttpClient.DefaultProxy = previous;
        }
    }
}
