using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Payloads;
using Herald.Receiver.Events;

namespace Herald.Receiver.Tests.Events;

/// <summary>
/// Every notification Herald sends reads into the kit's typed models, every field of its seed:
/// the bodies here are Herald's own (<see cref="PayloadExamples"/>, rendered by the code every
/// delivery goes through), or written as Herald writes them.
/// </summary>
public sealed class TypedEventTests
{
    private static HeraldEvent Parse(string body) => HeraldEventParser.Parse("evt_1", DateTimeOffset.UnixEpoch, 1, Encoding.UTF8.GetBytes(body));

    public static TheoryData<string> TransactionTypes() => [.. PayloadFormat.Transaction.EventTypes()];

    public static TheoryData<string> PointTypes() => [.. PayloadFormat.Point.EventTypes()];

    /// <summary>
    /// The model written back as JSON holds every field of the body, with the same value, and
    /// nothing else but nulls: no field of the seed is left unread, none misnamed.
    /// </summary>
    private static void AssertReadsEveryField(JsonObject body, object model)
    {
        var written = JsonSerializer.SerializeToNode(model)!.AsObject();
        foreach (var (name, value) in body)
        {
            Assert.True(written.ContainsKey(name), $"the model has no {name}");
            Assert.True(JsonNode.DeepEquals(value, written[name]), $"{name}: {value?.ToJsonString()} read as {written[name]?.ToJsonString()}");
        }
        Assert.All(written.Where(field => !body.ContainsKey(field.Key)), field => Assert.Null(field.Value));
    }

    [Theory]
    [MemberData(nameof(TransactionTypes))]
    public void ATransactionNotification_ReadsEveryFieldOfSeed003(string eventType)
    {
        var body = PayloadExamples.Render(PayloadFormat.Transaction, eventType)!;
        var transaction = Assert.IsType<TransactionEvent>(Parse(body)).Transaction;

        AssertReadsEveryField(JsonNode.Parse(body)!.AsObject(), transaction);
        Assert.Equal(eventType["TRANSACTION.".Length..], transaction.Status);
        Assert.Equal("London", transaction.Customer?.Address?.City);
        Assert.Equal("DNI", transaction.Customer?.Identify?.Type);
        Assert.Equal(1, Assert.Single(transaction.OrderDetails!).Quantity);
        Assert.Equal("W9 3RG", transaction.ShippingAddress?.ZipCode);
    }

    [Theory]
    [MemberData(nameof(PointTypes))]
    public void APointNotification_ReadsEveryFieldOfSeed000_ItsTimeAsUtc(string eventType)
    {
        var body = PayloadExamples.Render(PayloadFormat.Point, eventType)!;
        var intent = Assert.IsType<PaymentIntentEvent>(Parse(body)).Intent;

        AssertReadsEveryField(JsonNode.Parse(body)!.AsObject(), intent);
        Assert.Equal(new DateTimeOffset(2021, 11, 29, 17, 10, 37, TimeSpan.Zero), intent.CreatedAt);
        Assert.Equal(TimeSpan.Zero, intent.CreatedAt.Offset);
        Assert.Equal((9876543L, 1234567890L), (intent.CallerId, intent.ClientId));
        Assert.Equal("39SHDKKDJ", intent.AdditionalInfo?.TicketNumber);
        Assert.Equal(eventType == "PAYMENT_INTENT.FINISHED" ? new PaymentIntentPayment { Id = 123456789, State = "approved", Type = "credit_card" } : null, intent.Payment);
    }

    [Fact]
    public void ATransactionTheLeftOutFieldsOfWhichAreNull_ReadsThemAsNull_AndKeepsItsAmountsDecimals()
    {
        var evt = Assert.IsType<TransactionEvent>(Parse("""
            {"internalId":"t-1","sessionId":null,"merchantName":"Fer Merchant","userId":null,"type":null,"paymentOptionName":null,"country":null,
             "currency":"BRL","paymentAmount":12.50,"merchantReference":null,"status":"DECINED","language":null,"paymentReference":null,"storedToken":null,
             "extra1":null,"extra2":null,"extra3":null,
             "customer":{"name":"A","email":null,"phone":null,"userDevice":null,"userAgent":null,"ip":null,
                         "address":{"street":null,"streetNumber":null,"country":null,"zipCode":null,"city":"X","state":null},"identify":null},
             "orderDetails":[{"productName":"p","quantity":null,"dimensions":null,"description":null}],"shippingAddress":null}
            """));

        Assert.Equal("12.50", evt.PaymentAmount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(12.50m, evt.Transaction.PaymentAmount);
        Assert.Null(evt.Transaction.SessionId);
        Assert.Null(evt.Transaction.ShippingAddress);
        Assert.Null(evt.Transaction.Customer!.Identify);
        Assert.Null(evt.Transaction.Customer.Address!.Street);
        Assert.Null(evt.Transaction.OrderDetails![0].Quantity);
        Assert.Equal("DECINED", evt.Status);
    }

    [Fact]
    public void ATransactionRecordedAsDeclinedBeforeHeraldWroteSeed003sSpelling_ReadsAsDecined()
    {
        // A body recorded before the upgrade and sent after it (a retry, a resend) keeps what it said.
        var evt = Assert.IsType<TransactionEvent>(Parse("""{"internalId":"t-1","status":"DECLINED","paymentAmount":5,"currency":"BRL"}"""));

        Assert.Equal("DECINED", evt.Status);
        Assert.Equal("DECINED", evt.Transaction.Status);
        Assert.Equal("DECLINED", evt.Payload["status"]!.GetValue<string>());
    }

    [Fact]
    public void APointNotificationOfAnotherSite_HasNoTicketNumberNorPayment()
    {
        var evt = Assert.IsType<PaymentIntentEvent>(Parse("""
            {"amount":100,"caller_id":2,"client_id":1,"created_at":"2026-12-06 04:20:32","id":"pi-1","state":"CANCELED","additional_info":{"external_reference":null}}
            """));

        Assert.Equal(new PaymentIntentAdditionalInfo(), evt.Intent.AdditionalInfo);
        Assert.Null(evt.Intent.Payment);
        Assert.Null(evt.TicketNumber);
        Assert.Equal(new DateTimeOffset(2026, 12, 6, 4, 20, 32, TimeSpan.Zero), evt.Intent.CreatedAt);
    }

    [Fact]
    public void APaymentOrderAsHeraldAnswersIt_ReadsEveryField()
    {
        var document = JsonNode.Parse("""
            {"id":"po-1","preference_id":null,"amount":50.10,"currency":"ARS","external_reference":"ref","description":null,"status":"CLOSED",
             "created_at":"2026-12-06T04:20:22.738Z","updated_at":"2026-12-06T04:20:22.749Z"}
            """)!.AsObject();
        var thin = Assert.IsType<PaymentOrderEvent>(Parse("""{"id":"evt_1","event_type":"PAYMENT_ORDER.CLOSED","entity_type":"PAYMENT_ORDER","entity_id":"po-1"}"""));

        Assert.Null(thin.PaymentOrder);
        Assert.Equal("PAYMENT_ORDER", thin.EntityType);
        var order = (thin with { Order = document }).PaymentOrder!;
        Assert.Equal(new PaymentOrder
        {
            Id = "po-1", Amount = 50.10m, Currency = "ARS", ExternalReference = "ref", Status = "CLOSED",
            CreatedAt = new DateTimeOffset(2026, 12, 6, 4, 20, 22, 738, TimeSpan.Zero), UpdatedAt = new DateTimeOffset(2026, 12, 6, 4, 20, 22, 749, TimeSpan.Zero),
        }, order);
        Assert.Equal("50.10", order.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("""{"internalId":5,"status":"COMPLETED"}""", "$.internalId")]
    [InlineData("""{"internalId":"t-1","status":"COMPLETED","paymentAmount":"12.50"}""", "$.paymentAmount")]
    [InlineData("""{"amount":100,"caller_id":2,"client_id":1,"created_at":"2026-12-06T04:20:32Z","id":"pi-1","state":"ERROR"}""", "$.created_at")]
    // A null where the model's field may not be null (Herald sends none) is refused alike, not read as null.
    [InlineData("""{"internalId":"t-1","status":null,"paymentAmount":130}""", "$.status")]
    [InlineData("""{"amount":100,"caller_id":2,"client_id":1,"created_at":"2026-12-06 04:20:32","id":null,"state":"ERROR"}""", "$.id")]
    public void ABodyWithAFieldOfAnotherType_IsRefusedNamingTheField(string body, string path) =>
        Assert.Contains(path, Assert.Throws<JsonException>(() => Parse(body)).Message, StringComparison.Ordinal);

    [Fact]
    public void AnEventCopiedWithAnotherPayload_ReadsThatPayload_NotTheOneItWasMadeWith()
    {
        var completed = Assert.IsType<TransactionEvent>(Parse("""{"internalId":"t-1","status":"COMPLETED","paymentAmount":130,"currency":"BRL"}"""));
        var refunded = completed with { Payload = JsonNode.Parse("""{"internalId":"t-1","status":"REFUNDED","paymentAmount":130,"currency":"BRL"}""")!.AsObject() };
        Assert.Equal("REFUNDED", refunded.Status);
        Assert.Equal("REFUNDED", refunded.Transaction.Status);
        Assert.Equal("COMPLETED", completed.Status);

        var finished = Assert.IsType<PaymentIntentEvent>(Parse("""{"amount":100,"caller_id":2,"client_id":1,"created_at":"2026-12-06 04:20:32","id":"pi-1","state":"FINISHED"}"""));
        var canceled = finished with { Payload = JsonNode.Parse("""{"amount":100,"caller_id":2,"client_id":1,"created_at":"2026-12-06 04:20:32","id":"pi-1","state":"CANCELED"}""")!.AsObject() };
        Assert.Equal("CANCELED", canceled.State);
        Assert.Equal("FINISHED", finished.State);

        // A model given with the copy is the one it keeps.
        var given = completed.Transaction with { Status = "EXPIRED" };
        Assert.Equal("EXPIRED", (completed with { Transaction = given }).Status);
    }
}
