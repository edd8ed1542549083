using System.Net;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>An event type's example an endpoint's test sends (marked <c>webhook-test</c>) is verified and acknowledged, never handled.</summary>
public sealed class ExampleNotificationTests
{
    private const string Thin = """{"id":"evt_example","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"rcAaNfKdKJRmrnj4l5"}""";

    [Fact]
    public async Task AnExample_IsAnswered200WithoutTheHandler_NorItsOrderFetched_ButStillVerified()
    {
        var fetched = 0;
        var api = new CountingApi(() => Interlocked.Increment(ref fetched));
        var logs = new LogSink();
        var options = Signed.OptionsWithApi(api);
        var handled = 0;
        await using var app = await ReceiverApp.StartAsync(options, (_, _) =>
        {
            Interlocked.Increment(ref handled);
            return Task.CompletedTask;
        }, logs);

        using (var example = Signed.Request("evt_example", Thin, DateTimeOffset.UtcNow))
        {
            example.Headers.Add("webhook-test", "1");
            var response = await app.Client.SendAsync(example);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("an example an endpoint's test sent (webhook-test): verified, not handled", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, handled);
        Assert.Equal(0, fetched);
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Information, 6005), (logged.Level, logged.EventId));

        // The mark does not stand in for a signature.
        using (var forged = Signed.Request("evt_example", Thin, DateTimeOffset.UtcNow))
        {
            forged.Headers.Add("webhook-test", "1");
            forged.Headers.Remove("webhook-signature");
            forged.Headers.Add("webhook-signature", "v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34=");
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(forged)).StatusCode);
        }
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
