using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Core.Tests.Payloads;
using Herald.Server.Tests.Infrastructure;
using Herald.Signing;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Tests.Payloads;

/// <summary>Each format arrives at a real receiver exactly as its seed shows it, signed.</summary>
public sealed class FormatsEndToEndTests : HeraldWithReceiver
{
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
        using var merchant = await Herald.NewMerchantAsync();
        var (_, secret) = await merchant.AddEndpointAsync(Receiver.Url, "point");
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
        var request = await Receiver.WaitForAsync(1);
        await Task.Delay(200);
        Assert.Single(Receiver.Received);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        var seed = SeedExamples.Point()[(state, site)];
        JsonShape.AssertSameShape(seed, body);
        Assert.Equal(state, body.Str("state"));
        Assert.Equal(intent.Str("id"), body.Str("id"));
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", body.Str("created_at"));
        Assert.Equal("2026-11-02 12:00:00", body.Str("created_at"));
        // Every other value is the seed's, as given: only the id and the time are Herald's own.
        seed["id"] = intent.Str("id");
        seed["created_at"] = body.Str("created_at");
        Assert.True(JsonNode.DeepEquals(seed, body), $"expected {seed.ToJsonString()}\nactual   {body.ToJsonString()}");
        AssertSigned(request, secret);
    }

    [Fact]
    public async Task PaymentOrderFromPreference_ArrivesThinAsSeed001ShowsIt_ForEveryState()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var preference = await merchant.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = Receiver.Url } });
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { preference_id = preference.Str("id"), amount = 50.5, currency = "ARS" });
        Assert.Equal("OPENED", order.Str("status"));
        await merchant.MoveAsync("payment_orders", order.Str("id"), "CLOSED");
        await merchant.MoveAsync("payment_orders", order.Str("id"), "REFUNDED");

        await Receiver.WaitForAsync(3);
        // The preference's webhook endpoint signs with the secret its creation answered, shown that once.
        var secret = preference.Str("secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Null((await merchant.GetJsonAsync($"/v1/checkout_preferences/{preference.Str("id")}"))["secret"]);
        // The preference reads its webhook as its endpoint has it now.
        using (var patch = await merchant.PatchAsync($"/v1/endpoints/{preference.Str("endpoint_id")}", JsonContent.Create(new { url = Receiver.Url + "/moved" })))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, patch.StatusCode);
        }
        Assert.Equal(Receiver.Url + "/moved", (await merchant.GetJsonAsync($"/v1/checkout_preferences/{preference.Str("id")}"))["custom_urls"]!.Str("status_changes_webhook"));
        var types = new List<string>();
        foreach (var request in Receiver.Received)
        {
            AssertSigned(request, secret);
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
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.PostJsonAsync("/v1/checkout_preferences", new { custom_urls = new { status_changes_webhook = Receiver.Url } });
        var other = await merchant.PostJsonAsync("/v1/checkout_preferences", new { });
        await merchant.PostJsonAsync("/v1/payment_orders", new { preference_id = other.Str("id"), amount = 1, currency = "ARS" });
        await Task.Delay(300);
        Assert.Empty(Receiver.Received);
    }

    [Fact]
    public async Task Transaction_ArrivesAsSeed003ShowsIt()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (_, secret) = await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { event_types = new[] { "TRANSACTION.COMPLETED" } });
        // The seed's own example, less what Herald assigns (its id and its status).
        var seed = SeedExamples.Transaction();
        var given = seed.DeepClone().AsObject();
        given.Remove("internalId");
        given.Remove("status");
        var id = (await merchant.PostJsonAsync("/v1/transactions", given)).Str("internalId");
        await merchant.MoveAsync("transactions", id, "PROCESSING");
        await merchant.MoveAsync("transactions", id, "COMPLETED");

        var request = await Receiver.WaitForAsync(1);
        await Task.Delay(200);
        Assert.Single(Receiver.Received);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        JsonShape.AssertSameShape(seed, body);
        Assert.Equal("COMPLETED", body.Str("status"));
        Assert.Equal(id, body.Str("internalId"));
        Assert.Equal("London", body["customer"]!["address"]!.Str("city"));
        // Every value the seed shows arrives as given.
        seed["internalId"] = id;
        Assert.True(JsonNode.DeepEquals(seed, body), $"expected {seed.ToJsonString()}\nactual   {body.ToJsonString()}");
        AssertSigned(request, secret);
    }

    [Fact]
    public async Task ATransitionsData_ThatBringsWhatTheCreationLeftOut_ArrivesWithEverySeedKey()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { event_types = new[] { "TRANSACTION.PROCESSING" } });
        var created = await merchant.PostJsonAsync("/v1/transactions", new { paymentAmount = 130, currency = "BRL" });
        Assert.Null(created["customer"]);
        // The customer and order lines arrive only now, in part, and the amount in another notation.
        var data = JsonNode.Parse("""{"paymentAmount":1.5E2,"customer":{"address":{"city":"London"}},"orderDetails":[{"quantity":2}]}""")!;
        var moved = await merchant.MoveAsync("transactions", created.Str("internalId"), "PROCESSING", data);

        var request = await Receiver.WaitForAsync(1);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        var seed = SeedExamples.Transaction();
        Assert.Equal(KeysOf(seed), KeysOf(body));
        Assert.Equal(KeysOf(seed["customer"]!), KeysOf(body["customer"]!));
        Assert.Equal(KeysOf(seed["customer"]!["address"]!), KeysOf(body["customer"]!["address"]!));
        Assert.Equal(KeysOf(seed["orderDetails"]![0]!), KeysOf(body["orderDetails"]![0]!));
        Assert.Equal("London", body["customer"]!["address"]!.Str("city"));
        Assert.Null(body["customer"]!["name"]);
        Assert.Equal(2, body["orderDetails"]![0]!["quantity"]!.GetValue<int>());
        Assert.Contains("\"paymentAmount\":150,", request.Body, StringComparison.Ordinal);
        // The API answers the document as it was delivered.
        Assert.Equal(body.ToJsonString(), moved.ToJsonString());
    }

    private static List<string> KeysOf(JsonNode node) => node.AsObject().Select(p => p.Key).ToList();

    [Fact]
    public async Task ATransactionsBody_WithAccentsAndAPhoneNumber_ArrivesAsWritten_AndIsKeptOnceWithItsEvent()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        var document = Merchant.SeedTransaction();
        document["customer"]!["name"] = "João Conceição";
        document["merchantReference"] = "pedido <17> & cia";
        var id = (await merchant.PostJsonAsync("/v1/transactions", document)).Str("internalId");

        var request = await Receiver.WaitForAsync(1);
        Assert.Contains("\"name\":\"João Conceição\"", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"phone\":\"+34666999666\"", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"merchantReference\":\"pedido <17> & cia\"", request.Body, StringComparison.Ordinal);

        // The database keeps the body once: as its event's snapshot, the notification's row holding no copy.
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(Herald.DataDirectory, "herald.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT n.payload, e.snapshot FROM notifications n JOIN events e ON e.id = n.event_id WHERE e.entity_id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("", reader.GetString(0));
        Assert.Equal(request.Body, reader.GetString(1));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task IdsTheApiMakes_HaveTheSeedsForms_AndSortByCreation()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var transactions = new List<string>();
        var orders = new List<string>();
        var intents = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            transactions.Add(await merchant.NewTransactionAsync());
            orders.Add((await merchant.PostJsonAsync("/v1/payment_orders", new { amount = i + 1, currency = "BRL" })).Str("id"));
            intents.Add((await merchant.PostJsonAsync("/v1/payment_intents", new { amount = 100, site = "mlb", client_id = 1, caller_id = 2 })).Str("id"));
            Herald.Clock.Advance(TimeSpan.FromMilliseconds(5));
        }
        Assert.All(transactions.Concat(intents), id => Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", id));
        Assert.All(orders, id => Assert.Matches("^[A-Za-z0-9]{18}$", id));
        // Made later, sorted later: an index by entity id takes new entities at its end.
        foreach (var ids in new[] { transactions, orders, intents })
        {
            Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ADeclinedTransaction_ArrivesWithSeed003sSpelling_Decined()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        var id = await merchant.NewTransactionAsync();
        // DECLINED is taken for it on input.
        var moved = await merchant.MoveAsync("transactions", id, "DECLINED");
        Assert.Equal("DECINED", moved.Str("status"));
        await Receiver.WaitForAsync(2);
        Assert.Contains(Receiver.Received, r => JsonNode.Parse(r.Body)!.Str("status") == "DECINED");
        Assert.DoesNotContain(Receiver.Received, r => r.Body.Contains("DECLINED", StringComparison.Ordinal));
        Assert.Equal("TRANSACTION.DECINED", (await merchant.NotificationsAsync($"entity_id={id}&event_type=TRANSACTION.DECLINED"))[0]!.Str("event_type"));
    }

    private void AssertSigned(ReceivedRequest request, string secret)
    {
        Assert.Equal("Herald/1.0", request.Headers["user-agent"]);
        Assert.Equal("application/json; charset=utf-8", request.Headers["content-type"]);
        Assert.StartsWith("evt_", request.Headers["webhook-id"], StringComparison.Ordinal);
        Assert.Equal(Herald.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), request.Headers["webhook-timestamp"]);
        Assert.True(WebhookSignature.Verify(secret, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], Encoding.UTF8.GetBytes(request.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)),
            "the signature does not verify with the endpoint's secret");
    }
}
