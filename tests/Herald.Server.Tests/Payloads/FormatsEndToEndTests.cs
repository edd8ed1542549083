using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Server.Tests.Payloads;

/// <summary>Each format arrives at a real receiver exactly as its seed shows it, signed.</summary>
public sealed class FormatsEndToEndTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync();
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _herald.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    public static TheoryData<string, string> PointCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var state in new[] { "FINISHED", "CANCELED", "ERROR" })
        {
            foreach (var site in new[] { "mla", "mlb", "mlm" })
            {
                data.Add(state, site);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PointCases))]
    public async Task PointIntent_ArrivesAsSeed000ShowsIt(string state, string site)
    {
        using var merchant = await _herald.NewMerchantAsync();
        var (_, secret) = await merchant.AddEndpointAsync(_receiver.Url, "point");
        var additional = new JsonObject { ["external_reference"] = "information" };
        if (site == "mla")
        {
            additional["ticket_number"] = "39SHDKKDJ";
        }
        var intent = await merchant.PostJsonAsync("/v1/payment_intents", new JsonObject
        {
            ["amount"] = 100,
            ["site"] = site,
            ["client_id"] = 1234567890,
            ["caller_id"] = 9876543,
            ["additional_info"] = additional,
        });
        object? data = state == "FINISHED" ? new { payment = new { id = 123456789, state = "approved", type = "credit_card" } } : null;
        await merchant.MoveAsync("payment_intents", intent.Str("id"), state, data);

        // OPEN is not notified in seed 000: the only request is the state change.
        var request = await _receiver.WaitForAsync(1);
        await Task.Delay(200);
        Assert.Single(_receiver.Received);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        JsonShape.AssertSameShape(SeedExamples.Point()[(state, site)], body);
        Assert.Equal(state, body.Str("state"));
        Assert.Equal(intent.Str("id"), body.Str("id"));
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", body.Str("created_at"));
        Assert.Equal("2026-11-02 12:00:00", body.Str("created_at"));
        AssertSigned(request, secret);
    }

    [Fact]
    public async Task PaymentOrderFromPreference_ArrivesThinAsSeed001ShowsIt_ForEveryState()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var preference = await merchant.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = _receiver.Url } });
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { preference_id = preference.Str("id"), amount = 50.5, currency = "ARS" });
        Assert.Equal("OPENED", order.Str("status"));
        await merchant.MoveAsync("payment_orders", order.Str("id"), "CLOSED");
        await merchant.MoveAsync("payment_orders", order.Str("id"), "REFUNDED");

        await _receiver.WaitForAsync(3);
        var types = new List<string>();
        foreach (var request in _receiver.Received)
        {
            var body = JsonNode.Parse(request.Body)!.AsObject();
            JsonShape.AssertSameShape(SeedExamples.Thin(), body);
            Assert.Equal("PAYMENT_ORDER", body.Str("entity_type"));
            Assert.Equal(order.Str("id"), body.Str("entity_id"));
            // The thin id is the event id, which is also the webhook-id.
            Assert.Equal(request.Headers["webhook-id"], body.Str("id"));
            types.Add(body.Str("event_type"));
        }
        Assert.Equal(["PAYMENT_ORDER.CLOSED", "PAYMENT_ORDER.OPENED", "PAYMENT_ORDER.REFUNDED"], types.Order(StringComparer.Ordinal));

        // The receiver then GETs the entity, as seed 001 says.
        var latest = await merchant.GetJsonAsync($"/v1/payment_orders/{order.Str("id")}");
        Assert.Equal("REFUNDED", latest.Str("status"));
    }

    [Fact]
    public async Task PaymentOrderOfAnotherPreference_DoesNotReachThisPreferencesWebhook()
    {
        using var merchant = await _herald.NewMerchantAsync();
        await merchant.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = _receiver.Url } });
        var other = await merchant.PostJsonAsync("/v1/checkout_preferences", new { });
        await merchant.PostJsonAsync("/v1/payment_orders", new { preference_id = other.Str("id"), amount = 1, currency = "ARS" });
        await Task.Delay(300);
        Assert.Empty(_receiver.Received);
    }

    [Fact]
    public async Task Transaction_ArrivesAsSeed003ShowsIt()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var (_, secret) = await merchant.AddEndpointAsync(_receiver.Url, "transaction", new { event_types = new[] { "TRANSACTION.COMPLETED" } });
        var id = await merchant.NewTransactionAsync();
        await merchant.MoveAsync("transactions", id, "PROCESSING");
        await merchant.MoveAsync("transactions", id, "COMPLETED");

        var request = await _receiver.WaitForAsync(1);
        await Task.Delay(200);
        Assert.Single(_receiver.Received);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        JsonShape.AssertSameShape(SeedExamples.Transaction(), body);
        Assert.Equal("COMPLETED", body.Str("status"));
        Assert.Equal(id, body.Str("internalId"));
        Assert.Equal("London", body["customer"]!["address"]!.Str("city"));
        AssertSigned(request, secret);
    }

    [Fact]
    public async Task DeclinedAcceptsTheSeedSpellingDecined()
    {
        using var merchant = await _herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(_receiver.Url, "transaction");
        var id = await merchant.NewTransactionAsync();
        var moved = await merchant.MoveAsync("transactions", id, "DECINED");
        Assert.Equal("DECLINED", moved.Str("status"));
        await _receiver.WaitForAsync(2);
        Assert.Contains(_receiver.Received, r => JsonNode.Parse(r.Body)!.Str("status") == "DECLINED");
    }

    private void AssertSigned(ReceivedRequest request, string secret)
    {
        Assert.StartsWith("evt_", request.Headers["webhook-id"], StringComparison.Ordinal);
        Assert.Equal(_herald.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.Headers["webhook-timestamp"]);
        Assert.True(WebhookSignature.Verify(secret, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], Encoding.UTF8.GetBytes(request.Body), _herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)),
            "the signature does not verify with the endpoint's secret");
    }
}
