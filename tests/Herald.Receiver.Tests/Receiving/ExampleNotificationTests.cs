using System.Net;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>
/// An event type's example an endpoint's test sends (its signed webhook-id marked <c>evt_test_</c>) is
/// verified and acknowledged, never handled; the unsigned <c>webhook-test</c> header decides nothing.
/// </summary>
public sealed class ExampleNotificationTests
{
    private const string ExampleId = "evt_test_01kbz5m0a8q2n9v7c4x6y3w1e5";
    private const string Thin = """{"id":"evt_test_01kbz5m0a8q2n9v7c4x6y3w1e5","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"rcAaNfKdKJRmrnj4l5"}""";
    private const string RealId = "evt_01kbz5m0a8q2n9v7c4x6y3w1e5";
    private const string RealThin = """{"id":"evt_01kbz5m0a8q2n9v7c4x6y3w1e5","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"rcAaNfKdKJRmrnj4l5"}""";

    [Fact]
    public async Task AnExample_IsAnswered200WithoutTheHandler_NorItsOrderFetched_ButStillVerified()
    {
        var fetched = 0;
        var api = new CountingApi(() => Interlocked.Increment(ref fetched));
        var logs = new LogSink();
        var options = Signed.OptionsWithApi(api);
        await using var app = await ReceiverApp.StartCountingAsync(options, logs);

        using (var example = Signed.Request(ExampleId, Thin, DateTimeOffset.UtcNow))
        {
            example.Headers.Add("webhook-test", "1");
            var response = await app.Client.SendAsync(example);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("an example an endpoint's test sent (webhook-id evt_test_…): verified, not handled", await response.Content.ReadAsStringAsync());
        }
        // Told by the signed id: an example whose header was stripped on the way is still one.
        using (var stripped = Signed.Request(ExampleId, Thin, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(stripped)).StatusCode);
        }
        Assert.Equal(0, app.Handled);
        Assert.Equal(0, fetched);
        Assert.Equal(2, logs.Receiver.Count);
        Assert.All(logs.Receiver, logged => Assert.Equal((LogLevel.Information, 6005), (logged.Level, logged.EventId)));

        // The mark does not stand in for a signature.
        using (var forged = Signed.Request(ExampleId, Thin, DateTimeOffset.UtcNow))
        {
            forged.Headers.Add("webhook-test", "1");
            forged.Headers.Remove("webhook-signature");
            forged.Headers.Add("webhook-signature", "v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34=");
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(forged)).StatusCode);
        }
        Assert.Equal(0, app.Handled);
    }

    [Fact]
    public async Task ARealDelivery_WithAWebhookTestHeaderAddedOnTheWay_IsNotTakenForAnExample()
    {
        var fetched = 0;
        var api = new CountingApi(() => Interlocked.Increment(ref fetched));
        var options = Signed.OptionsWithApi(api);
        await using var app = await ReceiverApp.StartCountingAsync(options, new LogSink());

        using var request = Signed.Request(RealId, RealThin, DateTimeOffset.UtcNow);
        request.Headers.Add("webhook-test", "1");
        var response = await app.Client.SendAsync(request);

        // Not taken for an example: its order is fetched for the handler (the API here answers 404,
        // so the kit gives the notification back for a retry, the handler not yet run).
        Assert.Equal(1, fetched);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, app.Handled);
    }

    private sealed class CountingApi(Action onRequest) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            onRequest();
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }
}
