using System.Collections.Concurrent;
using System.Diagnostics;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Operations;

public sealed class TracingTests : HeraldWithReceiver
{
    /// <summary>Every span of Herald's (of every node in the process), recorded, into <paramref name="spans"/> as each ends.</summary>
    private static ActivityListener ListenToHerald(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Herald",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task EachDeliveryAttempt_IsASpanInTheTraceOfTheChangeThatCausedIt()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToHerald(spans);

        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        await Receiver.WaitForAsync(1);
        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(6), () => Task.FromResult(Receiver.Received.Count >= 2));
        await HeraldHost.EventuallyAsync(() => Task.FromResult(spans.Count(s => s.OperationName == "herald.deliver" && s.GetTagItem("herald.event.id") is string id && id == Receiver.Received.First().Headers["webhook-id"]) >= 2));

        var record = spans.Single(s => s.OperationName == "herald.record" && (string?)s.GetTagItem("herald.entity.id") == order);
        var eventId = Receiver.Received.First().Headers["webhook-id"];
        var deliveries = spans.Where(s => s.OperationName == "herald.deliver" && (string?)s.GetTagItem("herald.event.id") == eventId).ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d =>
        {
            Assert.Equal(record.TraceId, d.TraceId);
            Assert.Equal(record.SpanId, d.ParentSpanId);
        });
        Assert.Equal([500, 200], deliveries.OrderBy(d => d.StartTimeUtc).Select(d => (int)d.GetTagItem("http.response.status_code")!));

        // The receiver joins the trace too: each POST carries a W3C traceparent in the change's
        // trace, naming the attempt's own outgoing request (HttpClient's span under the attempt's).
        var parents = Receiver.Received.Take(2).Select(r => ActivityContext.Parse(r.Headers["traceparent"], null)).ToList();
        Assert.All(parents, p => Assert.Equal(record.TraceId, p.TraceId));
        Assert.NotEqual(parents[0].SpanId, parents[1].SpanId);
        Assert.DoesNotContain(record.SpanId, parents.Select(p => p.SpanId));
    }

    [Fact]
    public async Task AManualResend_IsASpanInTheTraceOfTheChange_AndItsPostCarriesThatTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToHerald(spans);

        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        await Receiver.WaitForAsync(1);
        var notification = (await merchant.NotificationsAsync("entity_id=" + order))[0]!.Str("id");
        await merchant.PostJsonAsync($"/v1/notifications/{notification}/resend", new { }, 202);
        await Receiver.WaitForAsync(2);

        // The listener hears every node in the process (other tests' too): this endpoint's attempts.
        List<Activity> Ours() => [.. spans.Where(s => s.OperationName == "herald.deliver" && (string?)s.GetTagItem("herald.endpoint.id") == endpoint)];
        await HeraldHost.EventuallyAsync(() => Task.FromResult(Ours().Count >= 2));
        var record = spans.Single(s => s.OperationName == "herald.record" && (string?)s.GetTagItem("herald.entity.id") == order);
        var attempts = Ours().OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(record.TraceId, a.TraceId);
            Assert.Equal(record.SpanId, a.ParentSpanId);
            Assert.Equal(notification, a.GetTagItem("herald.notification.id"));
        });
        Assert.Equal([1, 2], attempts.Select(a => (int)a.GetTagItem("herald.attempt")!));
        Assert.Equal(["schedule", "manual"], attempts.Select(a => (string?)a.GetTagItem("herald.attempt.trigger")));
        Assert.Equal(200, attempts[1].GetTagItem("http.response.status_code"));

        // The receiver sees the resend in the change's trace too, as it saw the first attempt.
        var resent = Receiver.Received.ElementAt(1);
        Assert.Equal("2", resent.Headers["webhook-attempt"]);
        Assert.True(resent.Headers.TryGetValue("traceparent", out var traceparent), "the resend carried no traceparent");
        Assert.Equal(record.TraceId, ActivityContext.Parse(traceparent, null).TraceId);
    }

    [Fact]
    public async Task AChangeRecordedWithoutATraceparent_StartsATraceOfItsOwn_UnderAParentBasedSampler()
    {
        // OpenTelemetry's default sampler: a span with a parent is kept when its parent is; one
        // without a parent, always.
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Herald",
            Sample = (ref ActivityCreationOptions<ActivityContext> o) =>
                o.Parent == default || o.Parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded)
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).Str("id");
        await Receiver.WaitForAsync(1);

        // The listener hears every node in the process (other tests' too): this endpoint's delivery.
        bool Ours(Activity s) => s.OperationName == "herald.deliver" && (string?)s.GetTagItem("herald.endpoint.id") == endpoint;
        await HeraldHost.EventuallyAsync(() => Task.FromResult(spans.Any(Ours)));
        var record = spans.Single(s => s.OperationName == "herald.record" && (string?)s.GetTagItem("herald.entity.id") == order);
        var delivery = spans.First(Ours);
        Assert.Equal(record.TraceId, delivery.TraceId);
    }
}
