using System.Net;
using System.Text;
using Herald.Receiver.Events;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>A notification that could not be handled answers 500 saying what failed, and the app's log says it too.</summary>
public sealed class FailedNotificationTests
{
    private const string Thin = """{"id":"evt_thin","event_type":"PAYMENT_ORDER.CLOSED","entity_id":"po_1"}""";

    /// <summary>Herald's API as the client sees it: refusing reads until told to answer.</summary>
    private sealed class HeraldApi : HttpMessageHandler
    {
        public volatile bool Up;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(Up
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"id":"po_1","status":"CLOSED"}""", Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("""{"error":"unavailable"}""") });
    }

    [Theory]
    [InlineData("""{"id":"po_1","status":"\ud800"}""")]
    [InlineData("""{"id":"po_1","status":"CLOSED","note":"\udc00 left alone"}""")]
    [InlineData("""{"id":"po_1","status":"CLOSED","status":"OPEN"}""")]
    [InlineData("""[{"id":"po_1","status":"CLOSED"}]""")]
    [InlineData("null")]
    [InlineData("\"po_1\"")]
    [InlineData("<html>bad gateway</html>")]
    public async Task AThinEventsOrderAnsweredAsNoJsonObjectTheKitReads_Answers500AsAFailedFetch_AndGivesTheIdBack(string answer)
    {
        var logs = new LogSink();
        await using var app = await ReceiverApp.StartCountingAsync(Signed.OptionsWithApi(new AnsweringApi(answer)), logs);

        for (var i = 0; i < 2; i++)
        {
            // Given back each time: the retry is fetched again, not answered 409 until the claim runs out.
            using var request = Signed.Request("evt_thin", Thin, DateTimeOffset.UtcNow);
            var response = await app.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("fetching payment order po_1 from Herald failed (its answer is no JSON object the kit can read), so the handler did not run; Herald will retry",
                await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, app.Handled);
        Assert.Equal(2, logs.Receiver.Count);
        Assert.All(logs.Receiver, l => Assert.Equal((LogLevel.Warning, 6002), (l.Level, l.EventId)));
        Assert.All(logs.Receiver, l => Assert.IsType<System.Text.Json.JsonException>(l.Exception));
    }

    [Fact]
    public async Task AThinEventsOrderTheTypedModelCannotRead_Answers500BeforeTheHandlerRuns_AndGivesTheIdBack()
    {
        var logs = new LogSink();
        var runs = 0;
        // An order whose amount is no number.
        await using var app = await ReceiverApp.StartAsync(Signed.OptionsWithApi(new AnsweringApi("""{"id":"po_1","status":"CLOSED","amount":"lots"}""")), (_, _) =>
        {
            Interlocked.Increment(ref runs);
            return Task.CompletedTask;
        }, logs);

        for (var i = 0; i < 2; i++)
        {
            // Given back each time: the next delivery is read again, not taken as handled or in progress.
            using var request = Signed.Request("evt_thin", Thin, DateTimeOffset.UtcNow);
            var response = await app.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.StartsWith("the body could not be read into the kit's typed event, so the handler did not run", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(0, runs);
        Assert.All(logs.Receiver, l => Assert.Equal(6008, l.EventId));
    }

    [Fact]
    public async Task FetchingAThinEventsOrderFails_Answers500SayingTheHandlerDidNotRun_AndTheRetryRunsItOnce()
    {
        var api = new HeraldApi();
        var logs = new LogSink();
        var options = Signed.OptionsWithApi(api);
        var orders = new List<string?>();
        await using var app = await ReceiverApp.StartAsync(options, (e, _) =>
        {
            lock (orders)
            {
                orders.Add(((PaymentOrderEvent)e).Order?["status"]?.GetValue<string>());
            }
            return Task.CompletedTask;
        }, logs);

        using (var first = Signed.Request("evt_thin", Thin, DateTimeOffset.UtcNow))
        {
            var response = await app.Client.SendAsync(first);
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("fetching payment order po_1 from Herald failed (Herald answered 503), so the handler did not run; Herald will retry",
                await response.Content.ReadAsStringAsync());
        }
        Assert.Empty(orders);
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Warning, 6002), (logged.Level, logged.EventId));
        Assert.Contains("fetching payment order po_1 from Herald failed; the handler did not run", logged.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(logged.Exception);

        api.Up = true;
        using (var retry = Signed.Request("evt_thin", Thin, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(retry)).StatusCode);
        }
        Assert.Equal(["CLOSED"], orders);
    }

    [Fact]
    public async Task AThinEventNamingNoOrder_Answers500SayingSo_AndLeavesTheIdFreeForTheRetry()
    {
        var api = new HeraldApi { Up = true };
        var options = Signed.OptionsWithApi(api);
        await using var app = await ReceiverApp.StartCountingAsync(options, new LogSink());
        const string numbered = """{"id":"evt_num","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":123}""";

        for (var i = 0; i < 2; i++)
        {
            using var request = Signed.Request("evt_num", numbered, DateTimeOffset.UtcNow);
            var response = await app.Client.SendAsync(request);
            // Both times the same answer: the first gave its claim back (a 409 would say it was still held).
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("the notification names no payment order (entity_id) to fetch, so the handler did not run", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, app.Handled);
    }

    [Fact]
    public async Task AHandlerThatThrows_Answers500_AndIsLoggedWithItsException()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        await using var app = await ReceiverApp.StartAsync(options, (_, _) => throw new InvalidOperationException("database down"), logs);

        using var request = Signed.Request("evt_fails", Signed.Transaction, DateTimeOffset.UtcNow);
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("the handler failed; Herald will retry", await response.Content.ReadAsStringAsync());
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Error, 6003), (logged.Level, logged.EventId));
        Assert.Contains("evt_fails", logged.Message, StringComparison.Ordinal);
        Assert.Equal("database down", logged.Exception?.Message);
    }

    [Fact]
    public async Task ASignedTransactionWithAFieldOfAnotherType_Answers500NamingTheField_AndTheHandlerDoesNotRun()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        await using var app = await ReceiverApp.StartCountingAsync(options, logs);

        using var request = Signed.Request("evt_odd", """{"internalId":"t-1","status":"COMPLETED","paymentAmount":"lots","currency":"BRL"}""", DateTimeOffset.UtcNow);
        var response = await app.Client.SendAsync(request);

        // Not handed over as an OtherEvent, which a handler could acknowledge and so drop.
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.StartsWith("the body could not be read into the kit's typed event, so the handler did not run: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("$.paymentAmount", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, app.Handled);
        var logged = Assert.Single(logs.Receiver);
        Assert.Equal((LogLevel.Error, 6008), (logged.Level, logged.EventId));
        Assert.DoesNotContain("lots", logged.Message + logged.Exception?.Message, StringComparison.Ordinal);
    }
}
