using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Payloads;

namespace Herald.Server.Tests.Api;

/// <summary>
/// The entities' values are held to what their seeds show them to be (codes from the ISO lists,
/// ids above zero, counts not below it), a whole number is one however it is written, and a
/// refusal changes nothing.
/// </summary>
public sealed partial class EntityValuesTests : HeraldWithMerchant
{
    private Task<HttpResponseMessage> PostRawAsync(string path, string json) =>
        MerchantClient.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task ExpectBadRequestAsync(HttpResponseMessage response, string contains) =>
        Assert.Equal("Bad Request", (await ApiErrors.ExpectErrorAsync(response, 400, contains)).Str("error"));

    private async Task<int> EventCountAsync() => (await MerchantClient.GetJsonAsync("/v1/events?limit=100"))["data"]!.AsArray().Count;

    private async Task<JsonObject> CreatedAsync(string path, string json)
    {
        using var response = await PostRawAsync(path, json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {path} {json}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static string Intent(string clientId = "1234567890", string callerId = "9876543") =>
        $$$"""{"amount":100,"site":"mlb","client_id":{{{clientId}}},"caller_id":{{{callerId}}},"additional_info":{"external_reference":"information"}}""";

    [Theory]
    [InlineData("ZZZ")]
    [InlineData("XYZ")]
    [InlineData("BRZ")]
    public async Task ACurrencyThatIsNoIso4217Code_Is400_AndChangesNothing(string currency)
    {
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", $$"""{"paymentAmount":10,"currency":"{{currency}}"}"""),
            $"currency must be a three-letter ISO 4217 code such as BRL; '{currency}' is no currency in use");
        await ExpectBadRequestAsync(await PostRawAsync("/v1/payment_orders", $$"""{"amount":10,"currency":"{{currency}}"}"""), "ISO 4217");
        var id = await MerchantClient.NewTransactionAsync();
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", $$$"""{"to":"PROCESSING","data":{"currency":"{{{currency}}}"}}"""),
            "data.currency must be a three-letter ISO 4217 code");
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal("BRL", (await MerchantClient.GetJsonAsync($"/v1/transactions/{id}")).Str("currency"));
    }

    [Theory]
    [InlineData("{}", "transaction: missing required field 'paymentAmount', 'currency'")]
    [InlineData("""{"currency":"BRL"}""", "transaction: missing required field 'paymentAmount'")]
    [InlineData("""{"paymentAmount":10,"country":"BR"}""", "transaction: missing required field 'currency'")]
    public async Task ATransactionLeavingOutItsAmountOrCurrency_IsToldWhichIsMissing_AndChangesNothing(string json, string message)
    {
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", json), message);
        Assert.Equal(0, await EventCountAsync());
    }

    [Theory]
    [InlineData("BRL")]
    [InlineData("USD")]
    [InlineData("EUR")]
    [InlineData("ARS")]
    [InlineData("MXN")]
    [InlineData("JPY")]
    public async Task ACurrencyInUse_IsTaken(string currency)
    {
        Assert.Equal(currency, (await CreatedAsync("/v1/transactions", $$"""{"paymentAmount":10,"currency":"{{currency}}"}""")).Str("currency"));
        Assert.Equal(currency, (await CreatedAsync("/v1/payment_orders", $$"""{"amount":10,"currency":"{{currency}}"}""")).Str("currency"));
    }

    [Theory]
    [InlineData("Brazil")]
    [InlineData("br")]
    [InlineData("XX")]
    [InlineData("UK")]
    [InlineData("")]
    public async Task ACountryThatIsNoIso3166Alpha2Code_Is400_WhereverATransactionCarriesOne(string country)
    {
        var expected = $"must be a two-letter ISO 3166-1 country code such as BR; '{country}' is none";
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", $$"""{"paymentAmount":10,"currency":"BRL","country":"{{country}}"}"""),
            "country " + expected);
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", $$$$"""{"paymentAmount":10,"currency":"BRL","customer":{"address":{"country":"{{{{country}}}}"}}}"""),
            "customer.address.country " + expected);
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", $$$"""{"paymentAmount":10,"currency":"BRL","shippingAddress":{"country":"{{{country}}}"}}"""),
            "shippingAddress.country " + expected);
        var id = await MerchantClient.NewTransactionAsync();
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", $$$$"""{"to":"PROCESSING","data":{"shippingAddress":{"country":"{{{{country}}}}"}}}"""),
            "data.shippingAddress.country " + expected);
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal("GB", (await MerchantClient.GetJsonAsync($"/v1/transactions/{id}"))["shippingAddress"]!.Str("country"));
    }

    [Fact]
    public async Task ACountryLeftOutOrNull_AndOneOfTheList_AreTaken()
    {
        var created = await CreatedAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","country":null,"customer":{"address":{"country":"AR"}}}""");
        Assert.Null(created["country"]);
        Assert.Equal("AR", created["customer"]!["address"]!.Str("country"));
        Assert.Equal("MX", (await CreatedAsync("/v1/transactions", """{"paymentAmount":10,"currency":"MXN","country":"MX"}""")).Str("country"));
    }

    [Fact]
    public async Task ANegativeQuantity_Is400_AndChangesNothing()
    {
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","orderDetails":[{"quantity":1},{"quantity":-1}]}"""),
            "orderDetails[1].quantity may not be negative");
        var id = await MerchantClient.NewTransactionAsync();
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", """{"to":"PROCESSING","data":{"orderDetails":[{"quantity":-3}]}}"""),
            "data.orderDetails[0].quantity may not be negative");
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal(1, (await MerchantClient.GetJsonAsync($"/v1/transactions/{id}"))["orderDetails"]![0]!["quantity"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("0", "9876543", "client_id")]
    [InlineData("-1234567890", "9876543", "client_id")]
    [InlineData("1234567890", "0", "caller_id")]
    [InlineData("1234567890", "-9876543", "caller_id")]
    public async Task APointIntentsClientOrCallerId_AtOrBelowZero_Is400_AsSeed000sIdsAreAboveIt(string clientId, string callerId, string field)
    {
        await ExpectBadRequestAsync(await PostRawAsync("/v1/payment_intents", Intent(clientId, callerId)), $"{field} must be a whole number greater than 0");
        Assert.Equal(0, await EventCountAsync());
    }

    [Theory]
    [InlineData("""{"id":-123456789,"state":"approved","type":"credit_card"}""", "data.payment.id must be a whole number greater than 0")]
    [InlineData("""{"id":0,"state":"approved","type":"credit_card"}""", "data.payment.id must be a whole number greater than 0")]
    [InlineData("""{"id":123456789,"state":"","type":"credit_card"}""", "data.payment.state is required")]
    [InlineData("""{"id":123456789,"state":"approved","type":" "}""", "data.payment.type is required")]
    public async Task FinishingAPointIntent_WithAPaymentThatSaysNothing_Is400_AndLeavesItOpen(string payment, string message)
    {
        var id = (await CreatedAsync("/v1/payment_intents", Intent())).Str("id");
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/payment_intents/{id}/transitions", $$$"""{"to":"FINISHED","data":{"payment":{{{payment}}}}}"""), message);
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal("OPEN", (await MerchantClient.GetJsonAsync($"/v1/payment_intents/{id}")).Str("state"));
    }

    [Fact]
    public async Task AWholeNumber_IsTakenHoweverItIsWritten_AndKeptAsOne()
    {
        // An order line's quantity, written as a double would be.
        var transaction = await CreatedAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","orderDetails":[{"quantity":1e0},{"quantity":2.0},{"quantity":30E-1}]}""");
        Assert.Equal("[{\"productName\":null,\"quantity\":1,\"dimensions\":null,\"description\":null},{\"productName\":null,\"quantity\":2,\"dimensions\":null,\"description\":null},{\"productName\":null,\"quantity\":3,\"dimensions\":null,\"description\":null}]",
            transaction["orderDetails"]!.ToJsonString());
        var moved = await MerchantClient.MoveAsync("transactions", transaction.Str("internalId"), "PROCESSING", JsonNode.Parse("""{"orderDetails":[{"quantity":4.0}]}"""));
        Assert.Equal("4", moved["orderDetails"]![0]!["quantity"]!.ToJsonString());

        // A Point intent's ids and amount, and its payment's id.
        var intent = await CreatedAsync("/v1/payment_intents", """{"amount":1e2,"site":"mlb","client_id":1234567890.0,"caller_id":9.876543E6}""");
        Assert.Contains("\"amount\":100,\"caller_id\":9876543,\"client_id\":1234567890,", intent.ToJsonString(), StringComparison.Ordinal);
        using var finished = await PostRawAsync($"/v1/payment_intents/{intent.Str("id")}/transitions",
            """{"to":"FINISHED","data":{"payment":{"id":1.23456789e8,"state":"approved","type":"credit_card"}}}""");
        var finishedText = await finished.Content.ReadAsStringAsync();
        Assert.True(finished.StatusCode == HttpStatusCode.OK, finishedText);
        Assert.Contains("\"payment\":{\"id\":123456789,\"state\":\"approved\",\"type\":\"credit_card\"}", finishedText, StringComparison.Ordinal);

        // Herald's own bodies too.
        var endpoint = await CreatedAsync("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","timeout_seconds":1.5e1}""");
        Assert.Equal(15, endpoint["timeout_seconds"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","orderDetails":[{"quantity":1.5}]}""", "a whole number is expected at $.orderDetails[0].quantity")]
    [InlineData("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","orderDetails":[{"quantity":1e10}]}""", "a whole number no larger than 2147483647 is expected at $.orderDetails[0].quantity")]
    [InlineData("/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":12.5,"caller_id":1}""", "a whole number is expected at $.client_id")]
    [InlineData("/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":1e19,"caller_id":1}""", "a whole number no larger than 9223372036854775807 is expected at $.client_id")]
    [InlineData("/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":-1e19,"caller_id":1}""", "a whole number no smaller than -9223372036854775808 is expected at $.client_id")]
    [InlineData("/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":99999999999999999999,"caller_id":1}""", "a whole number no larger than 9223372036854775807 is expected at $.client_id")]
    [InlineData("/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":1e-30,"caller_id":1}""", "a whole number is expected at $.client_id")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","timeout_seconds":"15"}""", "a whole number is expected at $.timeout_seconds")]
    public async Task ANumberThatIsNotWhole_WhereAWholeOneIsExpected_Is400(string path, string json, string message)
    {
        await ExpectBadRequestAsync(await PostRawAsync(path, json), message);
        Assert.Equal(0, await EventCountAsync());
    }

    [Theory]
    [InlineData("/v1/transactions", """{"paymentAmount":"130","currency":"BRL"}""", "transaction: a number is expected at $.paymentAmount")]
    [InlineData("/v1/transactions", """{"paymentAmount":1,"currency":7}""", "transaction: a string is expected at $.currency")]
    [InlineData("/v1/transactions", """{"paymentAmount":1,"currency":"BRL","orderDetails":{}}""", "transaction: a list is expected at $.orderDetails")]
    [InlineData("/v1/transactions", """{"paymentAmount":1,"currency":"BRL","orderDetails":[7]}""", "transaction: an object is expected at $.orderDetails[0]")]
    [InlineData("/v1/transactions", """{"paymentAmount":1,"currency":"BRL","customer":{"name":[]}}""", "transaction: a string is expected at $.customer.name")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","event_types":"PAYMENT_ORDER.CLOSED"}""", "a list is expected at $.event_types")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","event_types":[1]}""", "a string is expected at $.event_types[0]")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","ordered":"yes"}""", "true or false is expected at $.ordered")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","headers":["x"]}""", "an object is expected at $.headers")]
    [InlineData("/v1/endpoints", """{"url":"https://merchant.example/hooks","format":"thin","headers":{"X-Shop":1}}""", "a string is expected at $.headers.X-Shop")]
    [InlineData("/v1/endpoints", """{"url":42,"format":"thin"}""", "a string is expected at $.url")]
    public async Task AValueOfTheWrongType_IsToldWhatItsFieldTakes(string path, string json, string message)
    {
        await ExpectBadRequestAsync(await PostRawAsync(path, json), message);
        Assert.Equal(0, await EventCountAsync());
        Assert.Empty((await MerchantClient.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Theory]
    [InlineData("/v1/transactions", "[1]")]
    [InlineData("/v1/transactions", "[]")]
    [InlineData("/v1/payment_intents", "1")]
    [InlineData("/v1/payment_orders", "\"order\"")]
    [InlineData("/v1/endpoints", "true")]
    public async Task ABodyThatIsNotAJsonObject_IsToldSo(string path, string json)
    {
        await ExpectBadRequestAsync(await PostRawAsync(path, json), "the request body must be a JSON object");
        Assert.Equal(0, await EventCountAsync());
    }

    [Fact]
    public async Task ABodyThatIsNotAJsonObject_OnARouteThatTakesNone_IsToldSo()
    {
        var (endpoint, _) = await MerchantClient.AddEndpointAsync("https://merchant.example/hooks", "thin");
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/endpoints/{endpoint}/pause", "[]"), "the request body must be a JSON object");
        var id = await MerchantClient.NewTransactionAsync();
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", "[1]"), "the request body must be a JSON object");
        Assert.True((await MerchantClient.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task TheSeedsOwnExamples_AreTaken()
    {
        // Seed 003's payload as the platform would send it: Herald's own fields left to Herald.
        var transaction = SeedExamples.Transaction();
        transaction.Remove("internalId");
        transaction.Remove("status");
        var created = await CreatedAsync("/v1/transactions", transaction.ToJsonString());
        Assert.Equal("35eac8b8-e40b-447e-a214-8dd1f0e23996", created.Str("sessionId"));
        Assert.Equal("GB", created["customer"]!["address"]!.Str("country"));

        // Seed 000's intents, finished with their own payment.
        foreach (var ((state, site), example) in SeedExamples.Point().Where(e => e.Key.State == "FINISHED"))
        {
            var body = new JsonObject
            {
                ["amount"] = example["amount"]!.DeepClone(),
                ["site"] = site,
                ["client_id"] = example["client_id"]!.DeepClone(),
                ["caller_id"] = example["caller_id"]!.DeepClone(),
                ["additional_info"] = example["additional_info"]!.DeepClone(),
            };
            var intent = await CreatedAsync("/v1/payment_intents", body.ToJsonString());
            var finished = await MerchantClient.MoveAsync("payment_intents", intent.Str("id"), state, new JsonObject { ["payment"] = example["payment"]!.DeepClone() });
            Assert.Equal(example["payment"]!.ToJsonString(), finished["payment"]!.ToJsonString());
        }
    }
}
