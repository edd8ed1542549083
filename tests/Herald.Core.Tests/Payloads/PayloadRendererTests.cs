using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Ids;
using Herald.Payloads;

namespace Herald.Core.Tests.Payloads;

/// <summary>
/// Golden tests: each format, rendered from an entity document in Herald's stored shape, must read
/// like the example its seed shows.
/// </summary>
public class PayloadRendererTests
{
    private static readonly DateTimeOffset CreatedAt = new(2021, 11, 29, 17, 10, 37, TimeSpan.Zero);
    private static readonly DateTimeOffset ChangedAt = CreatedAt.AddMinutes(2);

    public static TheoryData<string, string> PointStatesAndSites()
    {
        var data = new TheoryData<string, string>();
        foreach (var state in new[] { "FINISHED", "CANCELED", "ERROR" })
        {
            foreach (var site in EntityDocuments.PointSites)
            {
                data.Add(state, site);
            }
        }
        return data;
    }

    public static TheoryData<string> PaymentOrderEventStates() => ["OPENED", "EXPIRED", "CLOSED", "REJECTED", "REFUNDED"];

    public static TheoryData<PayloadFormat, EntityKind> MismatchedFormatsAndKinds()
    {
        var data = new TheoryData<PayloadFormat, EntityKind>();
        foreach (var format in PayloadFormats.All)
        {
            foreach (var kind in EntityKinds.All.Where(k => k != format.EntityKind()))
            {
                data.Add(format, kind);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PointStatesAndSites))]
    public void Point_EveryStateAndSite_MatchesSeedExample(string state, string site)
    {
        var seed = SeedPayloads.Point(state, site);

        var payload = RenderObject(PayloadFormat.Point, IntentChanged(site, state));

        JsonShape.AssertSameShape(seed, payload);
        Assert.True(JsonNode.DeepEquals(seed, payload), $"expected {seed.ToJsonString()}\nactual   {payload.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(PointStatesAndSites))]
    public void Point_CarriesPaymentOnlyWhenFinished(string state, string site)
    {
        var payload = RenderObject(PayloadFormat.Point, IntentChanged(site, state));

        Assert.Equal(state == "FINISHED", payload.ContainsKey("payment"));
    }

    [Theory]
    [MemberData(nameof(PointStatesAndSites))]
    public void Point_CarriesTicketNumberOnlyForSiteMla(string state, string site)
    {
        var payload = RenderObject(PayloadFormat.Point, IntentChanged(site, state));

        var info = Assert.IsType<JsonObject>(payload["additional_info"]);
        Assert.Equal(site == "mla", info.ContainsKey("ticket_number"));
        Assert.Equal("information", info["external_reference"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(PointStatesAndSites))]
    public void Point_NeverCarriesSite(string state, string site)
    {
        var payload = RenderObject(PayloadFormat.Point, IntentChanged(site, state));

        Assert.False(payload.ContainsKey("site"));
        Assert.DoesNotContain("\"site\"", payload.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PointStatesAndSites))]
    public void Point_CreatedAt_HasSeedTimeFormat(string state, string site)
    {
        var payload = RenderObject(PayloadFormat.Point, IntentChanged(site, state));

        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", payload["created_at"]!.GetValue<string>());
    }

    [Fact]
    public void Point_CanceledWithPaymentInDocument_StillOmitsPayment()
    {
        var data = new JsonObject { ["payment"] = Payment() };
        var snapshot = EntityDocuments.WithChange(EntityKind.PaymentIntent, OpenIntent("mlb"), "CANCELED", data, ChangedAt);

        var payload = RenderObject(PayloadFormat.Point, IntentEvent(snapshot, "CANCELED"));

        Assert.False(payload.ContainsKey("payment"));
    }

    [Theory]
    [InlineData("OPENED")]
    [InlineData("CLOSED")]
    public void Thin_SeedExample_RendersExactly(string state)
    {
        var seed = SeedPayloads.Thin(state);
        var evt = OrderEvent(seed["id"]!.GetValue<string>(), seed["entity_id"]!.GetValue<string>(), state);

        var payload = RenderObject(PayloadFormat.Thin, evt);

        JsonShape.AssertSameShape(seed, payload);
        Assert.True(JsonNode.DeepEquals(seed, payload), $"expected {seed.ToJsonString()}\nactual   {payload.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(PaymentOrderEventStates))]
    public void Thin_EverySeedState_IdIsEventIdAndTypeNamesState(string state)
    {
        var evt = OrderEvent(HeraldId.New(HeraldId.Event, TimeProvider.System), HeraldId.NewOpaque(TimeProvider.System), state);

        var payload = RenderObject(PayloadFormat.Thin, evt);

        JsonShape.AssertSameShape(SeedPayloads.Thin("CLOSED"), payload);
        Assert.Equal(evt.Id, payload["id"]!.GetValue<string>());
        Assert.Equal($"PAYMENT_ORDER.{state}", payload["event_type"]!.GetValue<string>());
        Assert.Equal("PAYMENT_ORDER", payload["entity_type"]!.GetValue<string>());
        Assert.Equal(evt.EntityId, payload["entity_id"]!.GetValue<string>());
    }

    [Fact]
    public void Transaction_SeedExample_RendersUnchanged()
    {
        var seed = SeedPayloads.Transaction();
        var created = (JsonObject)seed.DeepClone();
        created["status"] = StateMachines.Transaction.Initial;
        var snapshot = EntityDocuments.WithChange(EntityKind.Transaction, created, "COMPLETED", null, ChangedAt);

        var payload = RenderObject(PayloadFormat.Transaction, TransactionEvent(snapshot, "COMPLETED"));

        JsonShape.AssertSameShape(seed, payload);
        Assert.True(JsonNode.DeepEquals(seed, payload), $"expected {seed.ToJsonString()}\nactual   {payload.ToJsonString()}");
    }

    [Fact]
    public void Transaction_KeepsSeedCamelCaseNames()
    {
        var payload = RenderObject(PayloadFormat.Transaction, TransactionEvent(SeedPayloads.Transaction(), "COMPLETED"));

        Assert.Equal("ee40a31b-a14f-48e2-a272-e3fc013f4735", payload["internalId"]!.GetValue<string>());
        Assert.Equal(130, payload["paymentAmount"]!.GetValue<int>());
        var customer = Assert.IsType<JsonObject>(payload["customer"]);
        Assert.Equal("MOBILE", customer["userDevice"]!.GetValue<string>());
        var address = Assert.IsType<JsonObject>(customer["address"]);
        Assert.Equal("24", address["streetNumber"]!.GetValue<string>());
        Assert.Equal("W9 3RG", address["zipCode"]!.GetValue<string>());
        var identify = Assert.IsType<JsonObject>(customer["identify"]);
        Assert.Equal("DNI", identify["type"]!.GetValue<string>());
        var details = Assert.IsType<JsonArray>(payload["orderDetails"]);
        var line = Assert.IsType<JsonObject>(Assert.Single(details));
        Assert.Equal("shirt-1233474", line["productName"]!.GetValue<string>());
        var shipping = Assert.IsType<JsonObject>(payload["shippingAddress"]);
        Assert.Equal("32 Windsor Gardens", shipping["street"]!.GetValue<string>());
        Assert.DoesNotContain("_", string.Concat(AllKeys(payload)), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MismatchedFormatsAndKinds))]
    public void Render_FormatForAnotherEntityKind_Throws(PayloadFormat format, EntityKind kind)
    {
        var evt = new EntityEvent("evt_1", "mer_1", kind, "ent_1", EventTypes.For(kind, StateMachines.For(kind).Initial),
            null, StateMachines.For(kind).Initial, 1, CreatedAt, new JsonObject());

        var error = Assert.Throws<ArgumentException>(() => PayloadRenderer.RenderText(format, evt));
        Assert.Equal("format", error.ParamName);
    }

    [Fact]
    public void Render_SameEventTwice_GivesSameText()
    {
        var evt = IntentChanged("mla", "FINISHED");

        Assert.Equal(PayloadRenderer.RenderText(PayloadFormat.Point, evt), PayloadRenderer.RenderText(PayloadFormat.Point, evt));
    }

    [Fact]
    public void RenderText_AfterALargerBody_GivesOnlyItsOwnBody()
    {
        // Bodies are rendered into a buffer each thread reuses: a short one after a long one
        // (past the size a thread keeps) must not carry any of the long one's bytes.
        var large = TransactionEvent(new JsonObject { ["internalId"] = "tx_large", ["note"] = new string('x', 100_000) }, "COMPLETED");
        var small = TransactionEvent(new JsonObject { ["internalId"] = "tx_small" }, "COMPLETED");
        var medium = TransactionEvent(new JsonObject { ["internalId"] = "tx_medium", ["note"] = new string('y', 20_000) }, "COMPLETED");

        var largeText = PayloadRenderer.RenderText(PayloadFormat.Transaction, large);
        var smallAfterLarge = PayloadRenderer.RenderText(PayloadFormat.Transaction, small);
        var mediumText = PayloadRenderer.RenderText(PayloadFormat.Transaction, medium);
        var smallAfterMedium = PayloadRenderer.RenderText(PayloadFormat.Transaction, small);

        Assert.Equal("""{"internalId":"tx_small"}""", smallAfterLarge);
        Assert.Equal(smallAfterLarge, smallAfterMedium);
        Assert.Equal(20_000, JsonNode.Parse(mediumText)!["note"]!.GetValue<string>().Length);
        Assert.Equal("{\"internalId\":\"tx_large\",\"note\":\"" + new string('x', 100_000) + "\"}", largeText);
    }

    private static JsonObject RenderObject(PayloadFormat format, EntityEvent evt)
    {
        return Assert.IsType<JsonObject>(JsonNode.Parse(PayloadRenderer.RenderText(format, evt)));
    }

    /// <summary>A payment intent as created through the API; it stores a ticket number whatever its site.</summary>
    private static JsonObject OpenIntent(string site) => new()
    {
        ["id"] = "abcdef123-8ab5-4139-9aa3-abcd123",
        ["amount"] = 100,
        ["caller_id"] = 9876543,
        ["client_id"] = 1234567890,
        ["created_at"] = EntityDocuments.FormatPointTime(CreatedAt),
        ["site"] = site,
        ["state"] = StateMachines.PaymentIntent.Initial,
        ["additional_info"] = new JsonObject
        {
            ["external_reference"] = "information",
            ["ticket_number"] = "39SHDKKDJ",
        },
    };

    private static JsonObject Payment() => new()
    {
        ["id"] = 123456789,
        ["state"] = "approved",
        ["type"] = "credit_card",
    };

    private static EntityEvent IntentChanged(string site, string state)
    {
        var data = state == "FINISHED" ? new JsonObject { ["payment"] = Payment() } : null;
        var snapshot = EntityDocuments.WithChange(EntityKind.PaymentIntent, OpenIntent(site), state, data, ChangedAt);
        return IntentEvent(snapshot, state);
    }

    private static EntityEvent IntentEvent(JsonObject snapshot, string state) => new(
        "evt_intent", "mer_1", EntityKind.PaymentIntent, snapshot["id"]!.GetValue<string>(),
        EventTypes.For(EntityKind.PaymentIntent, state), "OPEN", state, 2, ChangedAt, snapshot);

    private static EntityEvent OrderEvent(string eventId, string orderId, string state)
    {
        var snapshot = new JsonObject
        {
            ["id"] = orderId,
            ["preference_id"] = "pref_1",
            ["amount"] = 130,
            ["currency"] = "BRL",
            ["external_reference"] = "order-123",
            ["description"] = "Blue sports t-shirt",
            ["status"] = state,
            ["created_at"] = EntityDocuments.FormatApiTime(CreatedAt),
            ["updated_at"] = EntityDocuments.FormatApiTime(ChangedAt),
        };
        return new EntityEvent(eventId, "mer_1", EntityKind.PaymentOrder, orderId,
            EventTypes.For(EntityKind.PaymentOrder, state), null, state, 1, ChangedAt, snapshot);
    }

    private static EntityEvent TransactionEvent(JsonObject snapshot, string state) => new(
        "evt_transaction", "mer_1", EntityKind.Transaction, snapshot["internalId"]!.GetValue<string>(),
        EventTypes.For(EntityKind.Transaction, state), "INIT", state, 2, ChangedAt, snapshot);

    private static IEnumerable<string> AllKeys(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => AllKeys(p.Value).Prepend(p.Key)),
        JsonArray array => array.SelectMany(AllKeys),
        _ => [],
    };
}
