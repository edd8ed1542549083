using System.Net;
using System.Net.Http.Json;
using System.Text;
using Herald.Receiver.Events;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Receiver.Tests.Client;

/// <summary><c>services.AddHeraldClient()</c>: the client as a typed HttpClient, its settings from configuration, checked at start.</summary>
public sealed class AddHeraldClientTests
{
    /// <summary>Answers every request with a payment order and notes what was asked.</summary>
    private sealed class FakeHerald : HttpMessageHandler
    {
        public List<HttpRequestMessage> Asked { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Asked.Add(request);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"id":"po_1","status":"CLOSED","amount":10.50,"currency":"BRL"}""", Encoding.UTF8, "application/json"),
            });
        }
    }

    private static HostApplicationBuilder Builder(params (string Key, string? Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public async Task TheClient_TakesHeraldUrlAndApiKeyFromConfiguration_AndSendsThroughTheHttpClientFactory()
    {
        var herald = new FakeHerald();
        var builder = Builder(("Herald:Url", "https://example.com/herald"), ("Herald:ApiKey", " hk_live_1\n"));
        builder.Services.AddHeraldClient().ConfigurePrimaryHttpMessageHandler(() => herald);
        using var host = builder.Build();
        await host.StartAsync();

        var order = await host.Services.GetRequiredService<HeraldClient>().GetPaymentOrderAsync("po_1");

        Assert.Equal("CLOSED", order["status"]!.GetValue<string>());
        var asked = Assert.Single(herald.Asked);
        Assert.Equal("https://example.com/herald/v1/payment_orders/po_1", asked.RequestUri!.AbsoluteUri);
        Assert.Equal("Bearer hk_live_1", asked.Headers.Authorization!.ToString());
        Assert.NotNull(host.Services.GetRequiredService<IHttpClientFactory>());
        await host.StopAsync();
    }

    [Fact]
    public async Task TheSettings_MayComeFromAnotherSection_OrFromCode()
    {
        var herald = new FakeHerald();
        var builder = Builder(("Payments:Herald:Url", "https://herald.example"), ("Payments:Herald:ApiKey", "hk_a"));
        builder.Services.AddHeraldClient("Payments:Herald").ConfigurePrimaryHttpMessageHandler(() => herald);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<HeraldClient>().GetTransactionAsync("t-1");
            await host.StopAsync();
        }

        var coded = Builder(("Herald:Url", "https://ignored.example"));
        coded.Services.AddHeraldClient(o =>
        {
            o.Url = "https://herald.example/";
            o.ApiKey = "hk_b";
        }).ConfigurePrimaryHttpMessageHandler(() => herald);
        using (var host = coded.Build())
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<HeraldClient>().GetPaymentIntentAsync("pi_1");
            await host.StopAsync();
        }

        Assert.Equal(["https://herald.example/v1/transactions/t-1", "https://herald.example/v1/payment_intents/pi_1"], herald.Asked.Select(r => r.RequestUri!.AbsoluteUri));
        Assert.Equal(["Bearer hk_a", "Bearer hk_b"], herald.Asked.Select(r => r.Headers.Authorization!.ToString()));
    }

    [Theory]
    [InlineData(null, "hk_1", "Herald:Url is not set")]
    [InlineData("  ", "hk_1", "Herald:Url is not set")]
    [InlineData("herald.example", "hk_1", "Herald:Url 'herald.example' is not an absolute http or https address")]
    [InlineData("ftp://herald.example", "hk_1", "Herald:Url 'ftp://herald.example' is not an absolute http or https address")]
    [InlineData("https://herald.example", null, "Herald:ApiKey is not set")]
    [InlineData("https://herald.example", " \n", "Herald:ApiKey is not set")]
    public async Task AMissingOrBlankSetting_StopsTheAppAtStart_NamingIt(string? url, string? apiKey, string expected)
    {
        var builder = Builder(("Herald:Url", url), ("Herald:ApiKey", apiKey));
        builder.Services.AddHeraldClient();
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        if (apiKey is { Length: > 0 })
        {
            Assert.DoesNotContain(apiKey.Trim() is { Length: > 0 } key ? key : "\u0000", refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheReceiver_FetchesThinEventsOrders_WithTheRegisteredClient_WhenItsOptionsHaveNone()
    {
        var herald = new FakeHerald();
        PaymentOrderEvent? seen = null;
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        await using var app = await ReceiverApp.StartAsync(
            a => a.MapHeraldWebhooks("/webhooks", options, (evt, _) =>
            {
                seen = evt as PaymentOrderEvent;
                return Task.CompletedTask;
            }),
            services: s => s.AddHeraldClient(o =>
            {
                o.Url = "https://herald.example";
                o.ApiKey = "hk_read";
            }).ConfigurePrimaryHttpMessageHandler(() => herald));

        using var request = Signed.Request("evt_1", """{"id":"evt_1","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"po_1"}""", DateTimeOffset.UtcNow);
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CLOSED", seen?.PaymentOrder?.Status);
        Assert.Equal(10.50m, seen!.PaymentOrder!.Amount);
        Assert.Equal("https://herald.example/v1/payment_orders/po_1", Assert.Single(herald.Asked).RequestUri!.AbsoluteUri);
    }
}
