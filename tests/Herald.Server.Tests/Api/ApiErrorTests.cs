using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;
using static Herald.Server.Tests.Infrastructure.ApiErrors;

namespace Herald.Server.Tests.Api;

/// <summary>Bad input gets a clear error in the seed's shape and changes nothing.</summary>
public sealed class ApiErrorTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private HttpClient _merchant = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync();
        _merchant = await _herald.NewMerchantAsync();
    }

    public async Task DisposeAsync()
    {
        _merchant.Dispose();
        await _herald.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostRawAsync(string path, string json) =>
        _merchant.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<int> EventCountAsync(string entityId) =>
        (await _merchant.GetJsonAsync($"/v1/events?entity_id={entityId}"))["data"]!.AsArray().Count;

    [Fact]
    public async Task TransitionData_IsHeldToWhatACreationIs_AndARefusalChangesNothing()
    {
        var id = await _merchant.NewTransactionAsync();
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions",
            new { to = "PROCESSING", data = new { paymentAmount = -5 } }), 400, "data.paymentAmount must be a number greater than 0");
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions",
            new { to = "PROCESSING", data = new { currency = "x" } }), 400, "data.currency must be a three-letter");
        Assert.Equal(1, await EventCountAsync(id));
        Assert.Equal("INIT", (await _merchant.GetJsonAsync($"/v1/transactions/{id}")).Str("status"));

        var order = (await _merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/payment_orders/{order}/transitions",
            new { to = "CLOSED", data = new { description = new string('d', 200_000) } }), 400, "data.description");
        Assert.Equal(1, await EventCountAsync(order));
    }

    [Theory]
    [InlineData("01/31/2026")]
    [InlineData("31 Jan 2026")]
    [InlineData("2026-13-01")]
    [InlineData("2026-01-31T12:00:00+01:75")]
    [InlineData("2026-01-31T12:00:00+15:00")]
    [InlineData("2026-01-31T12:00:00+\u0662\u0662:00")]
    [InlineData("\u0662\u0660\u0662\u0666-01-31")]
    public async Task ATimeNotInIso8601_Is400(string since)
    {
        await ExpectErrorAsync(await _merchant.GetAsync($"/v1/notifications?since={Uri.EscapeDataString(since)}"), 400, "since must be an ISO 8601 time");
    }

    [Theory]
    [InlineData("2026-01-31")]
    [InlineData("2026-01-31T12:00:00Z")]
    [InlineData("2026-01-31T12:00:00.123+02:00")]
    [InlineData("2026-01-31T12:00:00.123456789Z")]
    [InlineData("2026-01-31t12:00:00z")]
    [InlineData("0001-01-01T00:30:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    public async Task ATimeInIso8601_IsTaken(string since)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, (await _merchant.GetAsync($"/v1/notifications?since={Uri.EscapeDataString(since)}")).StatusCode);
    }

    [Fact]
    public async Task AWindowEndingBeforeItStarts_Is400()
    {
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?since=2026-12-31&until=2026-01-01"), 400, "since must be before until");
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?since=2026-01-01&until=2026-01-01"), 400, "since must be before until");
    }

    [Fact]
    public async Task UnknownState_Is400_AndChangesNothing()
    {
        var id = await _merchant.NewTransactionAsync();
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions", new { to = "PAID" }), 400, "unknown transaction state 'PAID'");
        Assert.Equal(1, await EventCountAsync(id));
        Assert.Equal("INIT", (await _merchant.GetJsonAsync($"/v1/transactions/{id}")).Str("status"));
    }

    [Fact]
    public async Task IllegalTransition_Is409InSeedShape_AndChangesNothing()
    {
        var id = await _merchant.NewTransactionAsync();
        await _merchant.MoveAsync("transactions", id, "COMPLETED");
        var body = await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions", new { to = "INIT" }), 409,
            "cannot move transaction from COMPLETED to INIT");
        Assert.Equal("Conflict", body.Str("error"));
        Assert.Equal(2, await EventCountAsync(id));
    }

    [Fact]
    public async Task Logs_PageBothWays_ButNotBothAtOnce()
    {
        await _merchant.AddEndpointAsync("https://merchant.example/hooks", "transaction");
        for (var i = 0; i < 5; i++)
        {
            await _merchant.NewTransactionAsync();
        }
        var all = Ids(await _merchant.GetJsonAsync("/v1/notifications"));
        Assert.Equal(5, all.Count);
        var older = await _merchant.GetJsonAsync($"/v1/notifications?limit=2&starting_after={all[1]}");
        Assert.Equal(all[2..4], Ids(older));
        Assert.True(older["has_more"]!.GetValue<bool>());
        var newer = await _merchant.GetJsonAsync($"/v1/notifications?limit=2&ending_before={all[2]}");
        Assert.Equal(all[..2], Ids(newer));
        Assert.False(newer["has_more"]!.GetValue<bool>());
        await ExpectErrorAsync(await _merchant.GetAsync($"/v1/notifications?starting_after={all[3]}&ending_before={all[1]}"), 400, "cannot be combined");
        // An empty cursor is no cursor: the newest page.
        Assert.Equal(all[..2], Ids(await _merchant.GetJsonAsync("/v1/notifications?limit=2&ending_before=&starting_after=")));

        // The events page the same way.
        var events = Ids(await _merchant.GetJsonAsync("/v1/events"));
        Assert.Equal(5, events.Count);
        var back = await _merchant.GetJsonAsync($"/v1/events?limit=2&ending_before={events[4]}");
        Assert.Equal(events[2..4], Ids(back));
        Assert.True(back["has_more"]!.GetValue<bool>());
        await ExpectErrorAsync(await _merchant.GetAsync($"/v1/events?starting_after={events[3]}&ending_before={events[1]}"), 400, "cannot be combined");
        // A cursor that is no id of the list's (a typo, a cut-off id, another list's id) is refused, not paged from.
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?starting_after=garbage"), 400, "starting_after must be a notification id (ntf_");
        await ExpectErrorAsync(await _merchant.GetAsync($"/v1/notifications?ending_before={events[1]}"), 400, "ending_before must be a notification id");
        await ExpectErrorAsync(await _merchant.GetAsync($"/v1/events?starting_after={events[1][..^1]}"), 400, "starting_after must be an event id (evt_");
    }

    private static List<string> Ids(JsonObject page) => page["data"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task UnknownFields_Are400()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", """{"url":"https://example.com/h","format":"thin","colour":"red"}"""), 400, "unknown field 'colour'");
        var id = await _merchant.NewTransactionAsync();
        await ExpectErrorAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", """{"to":"COMPLETED","why":"x"}"""), 400, "unknown field 'why'");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":1,"currency":"BRL","shoeSize":42}"""), 400, "unknown field 'shoeSize'");
        Assert.Equal(1, await EventCountAsync(id));
    }

    [Fact]
    public async Task MalformedJson_WrongTypes_AndDuplicateKeys_Are400()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount": 1, "currency": """), 400, "malformed JSON");
        // Where the reader stopped, and why: seed 000's own example writes a number with a leading zero.
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", "{\n  \"paymentAmount\": 1,\n  \"caller_id\": 09876543\n}"), 400,
            "malformed JSON (line 3, byte 17): Invalid leading zero before '9'");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount": 1,}"""), 400,
            "malformed JSON (line 1, byte 21): The JSON object contains a trailing comma at the end");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount": "lots", "currency": "BRL"}"""), 400, "paymentAmount");
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", """{"url":"https://example.com/a","url":"https://example.com/b","format":"thin"}"""), 400, "duplicate");
        var list = await _merchant.GetJsonAsync("/v1/notifications");
        Assert.Empty(list["data"]!.AsArray());
    }

    [Fact]
    public async Task AnAmountWithMoreDigitsThanAreKept_Is400_NotRounded()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount": 0.123456789012345678901234567890123, "currency": "BRL"}"""), 400,
            "a number may have at most 28 significant digits and 28 decimal places at $.paymentAmount");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", """{"amount": 10.00000000000000000000000000001, "currency": "BRL"}"""), 400,
            "a number may have at most 28 significant digits and 28 decimal places at $.amount");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", """{"amount": "10", "currency": "BRL"}"""), 400, "amount");
        // Too large for any amount, however written: said so, not called too precise.
        foreach (var large in new[] { "1e400", "-1e400", "1e99999", "79228162514264337593543950336", "123456789012345678901234567890.5" })
        {
            await ExpectErrorAsync(await PostRawAsync("/v1/transactions", $$"""{"paymentAmount": {{large}}, "currency": "BRL"}"""), 400,
                "a number between -79228162514264337593543950335 and 79228162514264337593543950335 is expected at $.paymentAmount");
        }
        Assert.Empty((await _merchant.GetJsonAsync("/v1/events"))["data"]!.AsArray());

        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", """{"amount": 0.0001234567890123456789012345678, "currency": "BRL"}"""), 400,
            "28 decimal places at $.amount");
        Assert.Empty((await _merchant.GetJsonAsync("/v1/events"))["data"]!.AsArray());

        // What a decimal holds is kept as written: 28 decimal places, trailing zeros, an exponent.
        foreach (var (amount, kept) in new[] { ("0.1234567890123456789012345678", "0.1234567890123456789012345678"), ("10.50", "10.50"), ("1.5e2", "150") })
        {
            var created = await PostRawAsync("/v1/payment_orders", "{\"amount\": " + amount + ", \"currency\": \"BRL\"}");
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == System.Net.HttpStatusCode.Created && body.Contains($"\"amount\":{kept},", StringComparison.Ordinal), body);
        }
    }

    [Fact]
    public async Task DuplicateKeys_InFreeFormBodies_Are400_NamingTheField_AndWriteNothing()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","currency":"USD"}"""), 400, "duplicate field at $.currency");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","customer":{"name":"a","name":"b"}}"""), 400, "duplicate field at $.customer.name");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_intents", """{"amount":100,"amount":100,"description":"x"}"""), 400, "duplicate field at $.amount");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","extra1":"\ud800"}"""), 400, "malformed JSON: a text is not valid Unicode (a lone surrogate) at $.extra1");
        // The same fault in a typed field reads the same.
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", """{"url":"https://example.com/\ud800","format":"thin"}"""), 400, "malformed JSON: a text is not valid Unicode (a lone surrogate) at $.url");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","customer":{"first-name":"a","first-name":"b"}}"""), 400, "duplicate field at $.customer.first-name");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":10,"currency":"BRL","customer":{"a.b":"a","a.b":"b"}}"""), 400, "duplicate field at $.customer['a.b']");
        await ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", """{"items":[{"title":"a","title":"b","quantity":1,"unit_price":1}]}"""), 400, "duplicate field at $.items[0].title");
        Assert.Empty((await _merchant.GetJsonAsync("/v1/events"))["data"]!.AsArray());

        var id = await _merchant.NewTransactionAsync();
        await ExpectErrorAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", """{"to":"PROCESSING","to":"PROCESSING"}"""), 400, "duplicate field at $.to");
        await ExpectErrorAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", """{"to":"PROCESSING","data":{"x":1,"x":2}}"""), 400, "duplicate field at $.data.x");
        Assert.Equal(1, await EventCountAsync(id));
        Assert.Equal("INIT", (await _merchant.GetJsonAsync($"/v1/transactions/{id}")).Str("status"));
    }

    [Fact]
    public async Task InvalidUtf8_DeepNesting_AndOverlongStrings_Are400_AndWriteNothing()
    {
        var invalid = new ByteArrayContent([.. "{\"paymentAmount\":1,\"currency\":\"BRL\",\"extra1\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()]);
        invalid.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await ExpectErrorAsync(await _merchant.PostAsync("/v1/transactions", invalid), 400, "malformed JSON: the body is not valid UTF-8 at $.extra1");
        // In a field's name, on a route that reads its body as a whole (not a tree), the same fault is named as such.
        var invalidName = new ByteArrayContent([.. "{\"scope\":\"read\",\""u8.ToArray(), 0xFF, .. "\":1}"u8.ToArray()]);
        invalidName.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await ExpectErrorAsync(await _merchant.PostAsync("/v1/api_keys", invalidName), 400, "malformed JSON: a field's name is not valid UTF-8");
        Assert.Single((await _merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray());

        var deep = "{\"paymentAmount\":1,\"currency\":\"BRL\",\"customer\":" + string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 41);
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", deep), 400, "nested too deeply");

        var longName = "{\"paymentAmount\":1,\"currency\":\"BRL\",\"customer\":{\"name\":\"" + new string('n', 2000) + "\"}}";
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", longName), 400, "transaction.customer.name is longer than");

        var unknownEnum = await _merchant.PostAsJsonAsync("/v1/endpoints", new { url = "https://example.com/h", format = "xml" });
        await ExpectErrorAsync(unknownEnum, 400, "unknown format 'xml'");
        Assert.Empty((await _merchant.GetJsonAsync("/v1/events"))["data"]!.AsArray());
        Assert.Empty((await _merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact]
    public async Task OversizedBody_Is413()
    {
        var big = "{\"paymentAmount\":1,\"currency\":\"BRL\",\"extra1\":\"" + new string('x', 300 * 1024) + "\"}";
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", big), 413, "larger than the limit");
    }

    [Fact]
    public async Task NotificationUrlOnPaymentIntent_Is400AsTheSeedSays()
    {
        var response = await _merchant.PostAsJsonAsync("/v1/payment_intents", new
        {
            amount = 100,
            site = "mlb",
            client_id = 1,
            caller_id = 2,
            notification_url = "https://example.com/hook",
        });
        await ExpectErrorAsync(response, 400, "notification_url is not supported");
        // Given as null it is still given.
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_intents",
            """{"amount":100,"site":"mlb","client_id":1,"caller_id":2,"notification_url":null}"""), 400, "notification_url is not supported");
    }

    [Fact]
    public async Task PaymentIntentAmount_IsAWholeNumber_AsSeed000Shows()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_intents",
            """{"amount":100.5,"site":"mlb","client_id":1,"caller_id":2}"""), 400, "amount must be a whole number");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_intents",
            """{"amount":99999999999999999999999,"site":"mlb","client_id":1,"caller_id":2}"""), 400, "amount must be at most 9223372036854775807");
        // 100.0 is 100, and is written so.
        var created = await PostRawAsync("/v1/payment_intents", """{"amount":100.0,"site":"mlb","client_id":1,"caller_id":2}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("\"amount\":100,", await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyNotSentAsJson_IsRefusedInTheErrorShape_AndCreatesNothing()
    {
        // What curl -d sends unless told otherwise.
        var form = await _merchant.PostAsync("/v1/endpoints", new StringContent("""{"url":"http://127.0.0.1:9/hooks","format":"thin"}""", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await ExpectErrorAsync(form, 415, "send Content-Type: application/json");
        Assert.Empty((await _merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Theory]
    [InlineData(null, "the request body must be JSON: send Content-Type: application/json")]
    [InlineData("text/plain", "the request body must be JSON: send Content-Type: application/json")]
    [InlineData("application/merge-patch+json", "the request body must be JSON: send Content-Type: application/json")]
    [InlineData("application/json; charset=latin1", "the request body must be JSON in UTF-8, not 'latin1'")]
    public async Task ABodyOfAnotherTypeOrCharset_OrOfNone_Is415_AndCreatesNothing(string? type, string message)
    {
        var body = new ByteArrayContent("""{"url":"http://127.0.0.1:9/hooks","format":"thin"}"""u8.ToArray());
        if (type is not null)
        {
            body.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
        }
        await ExpectErrorAsync(await _merchant.PostAsync("/v1/endpoints", body), 415, message);
        Assert.Empty((await _merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());

        // JSON in UTF-8, said either way, is taken.
        var utf8 = new ByteArrayContent("""{"url":"http://127.0.0.1:9/hooks","format":"thin"}"""u8.ToArray());
        utf8.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("Application/JSON; charset=UTF-8");
        Assert.Equal(HttpStatusCode.Created, (await _merchant.PostAsync("/v1/endpoints", utf8)).StatusCode);
    }

    [Fact]
    public async Task ARouteThatTakesNoBody_RefusesOne_AndDoesNothing_ButTakesNoneOrAnEmptyObject()
    {
        var (endpoint, _) = await _merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "thin");
        var keys = (await _merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray().Count;

        await ExpectErrorAsync(await _merchant.PostAsync($"/v1/endpoints/{endpoint}/pause", new StringContent("garbage", Encoding.UTF8, "application/json")), 400, "malformed JSON");
        await ExpectErrorAsync(await _merchant.PostAsync($"/v1/endpoints/{endpoint}/pause", new StringContent("{}", Encoding.UTF8, "text/plain")), 415, "send Content-Type: application/json");
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint}/pause", new { reason = "maintenance" }), 400,
            "this route takes no body: send none, or {} (unknown field 'reason' at $.reason)");
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync("/v1/api_keys", new { name = "ci" }), 400, "name");
        await ExpectErrorAsync(await _merchant.PostAsync($"/v1/endpoints/{endpoint}/pause",
            new StringContent("{\"pad\":\"" + new string('a', 300_000) + "\"}", Encoding.UTF8, "application/json")), 413, "larger than the limit");
        Assert.True((await _merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());
        Assert.Equal(keys, (await _merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray().Count);

        Assert.Equal(HttpStatusCode.OK, (await _merchant.PostAsync($"/v1/endpoints/{endpoint}/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _merchant.PostAsync($"/v1/endpoints/{endpoint}/resume", new StringContent(" { } ", Encoding.UTF8, "application/json"))).StatusCode);
        // An empty body sent in chunks is no body; a quoted charset is the same charset.
        Assert.Equal(HttpStatusCode.OK, (await _merchant.PostAsync($"/v1/endpoints/{endpoint}/pause", new ChunkedContent([]))).StatusCode);
        var quoted = new StringContent("{}", Encoding.UTF8);
        quoted.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/json; charset=\"utf-8\"");
        Assert.Equal(HttpStatusCode.OK, (await _merchant.PostAsync($"/v1/endpoints/{endpoint}/resume", quoted)).StatusCode);
        Assert.True((await _merchant.GetJsonAsync($"/v1/endpoints/{endpoint}"))["enabled"]!.GetValue<bool>());
        // A merchant key on the admin's routes is told so first, whatever it sends.
        await ExpectErrorAsync(await _merchant.PostAsync($"/v1/operator/endpoints/{endpoint}/pause", new StringContent("garbage", Encoding.UTF8, "text/plain")), 403, "admin key");
        await ExpectErrorAsync(await _merchant.PostAsync("/v1/merchants/mer_x/api_keys", new StringContent("garbage", Encoding.UTF8, "application/json")), 403, "admin key");
    }

    [Fact]
    public async Task ARouteWhoseBodyIsOptional_TakesJsonNull_AsNoBody_AsAGeneratedClientSendsIt()
    {
        // NSwag's C# client sends an optional body left out (rotate(id, null)) as the JSON null.
        var (endpoint, _) = await _merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "thin");

        var key = await PostRawAsync("/v1/api_keys", "null");
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        Assert.Equal("full", JsonNode.Parse(await key.Content.ReadAsStringAsync())!.Str("scope"));
        Assert.Equal(HttpStatusCode.OK, (await PostRawAsync($"/v1/endpoints/{endpoint}/rotate_secret", " null ")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostRawAsync($"/v1/endpoints/{endpoint}/test", "null")).StatusCode);
        // Any other value that is not an object is still refused, and so is null where a body is required.
        await ExpectErrorAsync(await PostRawAsync("/v1/api_keys", "[]"), 400, "the request body must be a JSON object");
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", "null"), 400, "the request body must be a JSON object");
        // Where a body is required, none at all (or only blanks) is told so, not in the JSON reader's words.
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", ""), 400, "the request body holds no JSON: it must be a JSON object");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", " \n "), 400, "the request body holds no JSON: it must be a JSON object");
    }

    /// <summary>A body sent in chunks, without a length.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task AMethodARouteDoesNotTake_IsRefusedInTheErrorShape_NamingTheMethodsItDoes()
    {
        var put = await _merchant.PutAsync("/v1/endpoints", new StringContent("{}", Encoding.UTF8, "application/json"));
        await ExpectErrorAsync(put, 405, "PUT is not allowed");
        // HEAD is answered wherever GET is, so it is named beside it.
        Assert.Equal(["GET", "HEAD", "POST"], put.Content.Headers.Allow.Order(StringComparer.Ordinal));
        using var admin = _herald.As(HeraldHost.AdminKey);
        var post = await admin.PostAsync("/metrics", null);
        await ExpectErrorAsync(post, 405, "POST is not allowed");
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order(StringComparer.Ordinal));
        // A path without GET is not said to take HEAD.
        var get = await _merchant.GetAsync("/v1/endpoints/ep_00000000000000000000000000/rotate_secret");
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(["POST"], get.Content.Headers.Allow);
    }

    [Fact]
    public async Task ChangingAnEndpointsFormat_SaysToMakeANewEndpoint_AndErrorsReadAsWritten()
    {
        var endpoint = await _merchant.PostJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "thin" });
        var patch = await _merchant.PatchAsync($"/v1/endpoints/{endpoint.Str("id")}", new StringContent("""{"format":"transaction"}""", Encoding.UTF8, "application/json"));
        await ExpectErrorAsync(patch, 400, "format cannot change: make a new endpoint");
        Assert.Equal("thin", (await _merchant.GetJsonAsync($"/v1/endpoints/{endpoint.Str("id")}")).Str("format"));
        // Quotes in a message are written as they are, not as \u0027 escapes.
        var unknown = await PostRawAsync("/v1/endpoints", """{"url":"http://127.0.0.1:9/hooks","format":"thin","colour":"red"}""");
        Assert.Contains("unknown field 'colour'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AQueryValueOfTheWrongType_IsNamedWithWhatItMustBe()
    {
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?limit=abc"), 400, "limit must be a whole number, not 'abc'");
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?limit=1.5"), 400, "limit must be a whole number");
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?limit=99999999999"), 400, "limit is out of range");
        // Digits alone: the framework would read each of these as 1.
        foreach (var loose in new[] { "%201", "+1", "01", "1%20" })
        {
            await ExpectErrorAsync(await _merchant.GetAsync($"/v1/notifications?limit={loose}"), 400, "limit must be a whole number, not '");
        }
        Assert.Equal(HttpStatusCode.OK, (await _merchant.GetAsync("/v1/notifications?limit=1")).StatusCode);
    }

    [Fact]
    public async Task NullGivenForARequiredField_SaysSo()
    {
        using var admin = _herald.As(HeraldHost.AdminKey);
        await ExpectErrorAsync(await admin.PostAsync("/v1/merchants", new StringContent("""{"name":null}""", Encoding.UTF8, "application/json")), 400, "a value may not be null at $.name");
    }

    [Fact]
    public async Task APreferencesWebhook_IsRefusedUnderItsOwnName_AndItsItemsFieldNamesAreHeldToTheTextRules()
    {
        await ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", """{"custom_urls":{"status_changes_webhook":"ftp://example.com/hook"}}"""), 400,
            "custom_urls.status_changes_webhook must use https");
        await ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", """{"items":[{"a\u0000":1}]}"""), 400, "a field name in items[0] may not contain the NUL character");
        await ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", $$"""{"items":[{"{{new string('k', 1025)}}":1}]}"""), 400, "a field name in items[0] is longer than 1024");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", $$"""{"amount":10,"currency":"BRL","preference_id":"{{new string('p', 5000)}}"}"""), 400, "preference_id is longer than 64");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", """{"amount":10,"currency":"BRL","preference_id":""}"""), 400,
            "preference_id is empty: name a checkout preference of this merchant, or leave it out");
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", """{"amount":10,"currency":"BRL","preference_id":"pref_nope"}"""), 400,
            "preference_id 'pref_nope' is not a checkout preference of this merchant");
    }

    [Fact]
    public async Task TextLimits_CountCharacters_NotUtf16Units()
    {
        // 1,024 emoji are 1,024 characters (2,048 UTF-16 units): taken; one more is refused.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 1024));
        var created = await PostRawAsync("/v1/payment_orders", $$"""{"amount":10,"currency":"BRL","description":"{{emoji}}"}""");
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(emoji, System.Text.Json.Nodes.JsonNode.Parse(await created.Content.ReadAsStringAsync())!.Str("description"));
        await ExpectErrorAsync(await PostRawAsync("/v1/payment_orders", $$"""{"amount":10,"currency":"BRL","description":"{{emoji + "\U0001F600"}}"}"""), 400,
            "description is longer than 1024 characters");
    }

    [Fact]
    public async Task TheAdmin_IssuesAMerchantThatLostItsKeys_ANewOne()
    {
        using var admin = _herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", new { name = "Forgetful" });
        using var merchant = _herald.As(created.Str("api_key"));
        var keys = (await merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray();
        Assert.Equal(HttpStatusCode.NoContent, (await merchant.DeleteAsync($"/v1/api_keys/{keys[0]!.Str("id")}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await merchant.GetAsync("/v1/endpoints")).StatusCode);

        var issued = await admin.PostJsonAsync($"/v1/merchants/{created.Str("id")}/api_keys", new { });
        using var again = _herald.As(issued.Str("api_key"));
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/v1/endpoints")).StatusCode);
        await ExpectErrorAsync(await _merchant.PostAsync($"/v1/merchants/{created.Str("id")}/api_keys", null), 403, "needs the admin key");
        await ExpectErrorAsync(await admin.PostAsync("/v1/merchants/mer_nobody/api_keys", null), 404, "merchant mer_nobody");
        await ExpectErrorAsync(await admin.PostAsync("/v1/merchants/mer_operator/api_keys", null), 404, "merchant mer_operator");
    }

    [Fact]
    public async Task Declined_IsTakenForSeed003sDecined_InEventTypeFilters()
    {
        var endpoint = await _merchant.PostJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "transaction", event_types = new[] { "TRANSACTION.DECLINED" } });
        Assert.Equal("TRANSACTION.DECINED", endpoint["event_types"]![0]!.GetValue<string>());
        var listed = await _merchant.GetAsync("/v1/notifications?event_type=TRANSACTION.DECLINED");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?event_type=TRANSACTION.DECLIND"), 400, "unknown event type");
        // Seed 000 never notifies an intent's OPEN: a filter on it would leave the endpoint silent.
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", """{"url":"http://127.0.0.1:9/point","format":"point","event_types":["PAYMENT_INTENT.OPEN"]}"""), 400,
            "PAYMENT_INTENT.OPEN is never notified in format point");
    }

    [Fact]
    public async Task AnEventTypeFilterOfMoreThan100Entries_Is400_AsEveryListInABodyIs()
    {
        var types = string.Join(",", Enumerable.Repeat("\"PAYMENT_INTENT.FINISHED\"", 101));
        await ExpectErrorAsync(await PostRawAsync("/v1/endpoints", $$"""{"url":"http://127.0.0.1:9/point","format":"point","event_types":[{{types}}]}"""), 400,
            "event_types may hold at most 100 entries, not 101");
        var endpoint = await _merchant.PostJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/point", format = "point" });
        await ExpectErrorAsync(await _merchant.PatchAsync($"/v1/endpoints/{endpoint.Str("id")}",
            new StringContent($$"""{"event_types":[{{types}}]}""", Encoding.UTF8, "application/json")), 400,
            "event_types may hold at most 100 entries, not 101");
    }

    [Fact]
    public async Task MissingOrWrongKey_Is401_AndAnotherMerchantsIdsAre404()
    {
        using var anonymous = new HttpClient { BaseAddress = _herald.Client.BaseAddress };
        await ExpectErrorAsync(await anonymous.GetAsync("/v1/notifications"), 401, "missing API key");
        // A key sent with another scheme is told to use Bearer, the key not echoed.
        var key = _merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        foreach (var header in (string[])[$"Basic {key}", key, $"Token {key}"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            var refused = await ExpectErrorAsync(await anonymous.SendAsync(request), 401, "the Authorization header must use the Bearer scheme: send Authorization: Bearer <key>");
            Assert.DoesNotContain(key, refused.ToJsonString(), StringComparison.Ordinal);
        }
        // The scheme in any case, and a tab after it as a space.
        foreach (var header in (string[])[$"bearer {key}", $"Bearer\t{key}", $"BEARER  {key} "])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(request)).StatusCode);
        }
        using var wrong = _herald.As("hk_wrong");
        await ExpectErrorAsync(await wrong.GetAsync("/v1/notifications"), 401, "invalid API key");

        var id = await _merchant.NewTransactionAsync();
        using var other = await _herald.NewMerchantAsync("Other");
        await ExpectErrorAsync(await other.GetAsync($"/v1/transactions/{id}"), 404, "not found");
        await ExpectErrorAsync(await other.PostAsJsonAsync($"/v1/transactions/{id}/transitions", new { to = "COMPLETED" }), 404, "not found");
        var evt = (await _merchant.GetJsonAsync($"/v1/events?entity_id={id}"))["data"]![0]!.Str("id");
        await ExpectErrorAsync(await other.GetAsync($"/v1/events/{evt}"), 404, "not found");
        Assert.Equal("INIT", (await _merchant.GetJsonAsync($"/v1/transactions/{id}")).Str("status"));
    }

    [Fact]
    public async Task TwoAuthorizationHeaders_Are400_NotAnInvalidKey()
    {
        var key = _merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        using var anonymous = new HttpClient { BaseAddress = _herald.Client.BaseAddress };
        using var twice = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
        twice.Headers.TryAddWithoutValidation("Authorization", $"Bearer {key}");
        twice.Headers.TryAddWithoutValidation("Authorization", "Bearer hk_other");
        await ExpectErrorAsync(await anonymous.SendAsync(twice), 400, "the request presents more than one Authorization header or key: send one, Authorization: Bearer <key>");
        using var joined = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
        joined.Headers.TryAddWithoutValidation("Authorization", $"Bearer {key},Bearer {key}");
        await ExpectErrorAsync(await anonymous.SendAsync(joined), 400, "more than one Authorization header or key");
        // Two keys side by side, as often as the address's budget of wrong keys would allow and
        // more: each is a 400, none counted as a wrong key, so the address is not locked out.
        for (var i = 0; i < 25; i++)
        {
            using var spaced = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications");
            spaced.Headers.TryAddWithoutValidation("Authorization", i % 2 == 0 ? $"Bearer {key} hk_other" : $"Bearer {key}\thk_other");
            await ExpectErrorAsync(await anonymous.SendAsync(spaced), 400, "more than one Authorization header or key");
        }
        Assert.Equal(HttpStatusCode.OK, (await _merchant.GetAsync("/v1/notifications")).StatusCode);
    }

    [Fact]
    public async Task AnAdminKeyOfTheOperatorsChoosingWithSpaces_IsStillTheAdminKey()
    {
        const string Passphrase = "correct horse battery staple, twice";
        await using var herald = await HeraldHost.StartAsync(workers: false, tune: o => o.AdminKey = Passphrase);
        using var admin = herald.As(Passphrase);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/merchants")).StatusCode);
        // Anything else with a space in it is two keys, not a wrong one.
        using var other = herald.As("correct horse battery");
        await ExpectErrorAsync(await other.GetAsync("/v1/merchants"), 400, "more than one Authorization header or key");
    }

    [Fact]
    public async Task MerchantKeyOnAdminRoute_Is403()
    {
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync("/v1/merchants", new { name = "x" }), 403, "admin key");
    }

    [Fact]
    public async Task EraseMerchantData_IsAdminOnly_AndErasesThatMerchantsPayloads()
    {
        using var admin = _herald.As(HeraldHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", new { name = "Leaving" });
        using var leaving = _herald.As(created.Str("api_key"));
        var id = await leaving.NewTransactionAsync();
        var kept = await _merchant.NewTransactionAsync();

        await ExpectErrorAsync(await _merchant.DeleteAsync($"/v1/merchants/{created.Str("id")}/data"), 403, "admin key");
        await ExpectErrorAsync(await admin.DeleteAsync("/v1/merchants/mer_nobody/data"), 404, "not found");
        await ExpectErrorAsync(await admin.DeleteAsync("/v1/merchants/mer_operator/data"), 404, "merchant mer_operator not found");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/merchants/{created.Str("id")}/data")).StatusCode);

        await ExpectErrorAsync(await leaving.GetAsync($"/v1/transactions/{id}"), 404, "not found");
        Assert.Empty((await leaving.GetJsonAsync("/v1/events"))["data"]!.AsArray());
        Assert.Equal("INIT", (await _merchant.GetJsonAsync($"/v1/transactions/{kept}")).Str("status"));
    }

    [Fact]
    public async Task UnknownRoute_Is404InSeedShape()
    {
        var body = await ExpectErrorAsync(await _merchant.GetAsync("/v1/nothing-here"), 404, "Not found");
        Assert.Equal("Not found", body.Str("error"));
        // Word for word the seed's example.
        var seed = Herald.Server.Tests.Payloads.SeedExamples.Error404();
        Assert.True(JsonNode.DeepEquals(seed, body), $"expected {seed.ToJsonString()}\nactual   {body.ToJsonString()}");
    }

    [Fact]
    public async Task IdempotencyKey_MakesARetriedTransitionSafe()
    {
        var id = await _merchant.NewTransactionAsync();
        using var request1 = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions") { Content = JsonContent.Create(new { to = "PROCESSING" }) };
        request1.Headers.Add("Idempotency-Key", "move-1");
        Assert.Equal(HttpStatusCode.OK, (await _merchant.SendAsync(request1)).StatusCode);
        using var request2 = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions") { Content = JsonContent.Create(new { to = "PROCESSING" }) };
        request2.Headers.Add("Idempotency-Key", "move-1");
        var replay = await _merchant.SendAsync(request2);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(2, await EventCountAsync(id));

        using var request3 = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions") { Content = JsonContent.Create(new { to = "COMPLETED" }) };
        request3.Headers.Add("Idempotency-Key", "move-1");
        await ExpectErrorAsync(await _merchant.SendAsync(request3), 422, "Idempotency-Key");
        Assert.Equal(2, await EventCountAsync(id));
    }

    [Fact]
    public async Task PreferenceItems_AreHeldToTheTextRules()
    {
        var nul = await _merchant.PostJsonAsync("/v1/checkout_preferences", new { items = new object[] { new { title = "shirt\0" } } }, 400);
        Assert.Contains("items[0].title may not contain the NUL character", nul["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var tooLong = await _merchant.PostJsonAsync("/v1/checkout_preferences", new { items = new object[] { new { title = new string('a', 2000) } } }, 400);
        Assert.Contains("items[0].title is longer than", tooLong["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        foreach (var items in new[] { "[1]", "[\"shirt\"]", "[null]", "[[]]", "[{\"title\":\"shirt\"},2]" })
        {
            // Each item is an object, as the API's document says and a typed client reads them.
            await ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", $$"""{"items":{{items}}}"""), 400, "items must be a list of objects");
        }
        var fine = await _merchant.PostJsonAsync("/v1/checkout_preferences", new { items = new object[] { new { title = "shirt", quantity = 1 } } });
        Assert.Equal("shirt", fine["items"]![0]!.Str("title"));
        Assert.Null(fine["secret"]);
    }

    [Fact]
    public async Task IdempotencyKey_RepeatWithItsFieldsInAnotherOrder_IsTheSameRequest()
    {
        var id = await _merchant.NewTransactionAsync();
        async Task<HttpResponseMessage> MoveAsync(string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions")
            {
                Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "move-ordered");
            return await _merchant.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"PROCESSING","data":{"paymentAmount":130,"currency":"BRL"}}""")).StatusCode);
        // The same fields, written in another order at both levels: answered as the first was.
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"data":{"currency":"BRL","paymentAmount":130},"to":"PROCESSING"}""")).StatusCode);
        Assert.Equal(2, await EventCountAsync(id));
        // A different value is still a different request.
        await ExpectErrorAsync(await MoveAsync("""{"data":{"currency":"BRL","paymentAmount":131},"to":"PROCESSING"}"""), 422, "Idempotency-Key");
        Assert.Equal(2, await EventCountAsync(id));
    }

    /// <summary>A POST written by hand on a connection of its own, with <paramref name="headers"/> as given; answers the response's head and body.</summary>
    private Task<string> RawPostAsync(string path, string json, params string[] headers) =>
        RawAsync("POST", path, json, ["Content-Type: application/json", .. headers]);

    /// <summary>A request written by hand on a connection of its own, closed after it: answers all the server sent.</summary>
    private async Task<string> RawAsync(string method, string path, string? body, string[] headers)
    {
        var address = new Uri(_herald.Client.BaseAddress!, "/");
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var stream = tcp.GetStream();
        var key = _merchant.DefaultRequestHeaders.Authorization!.ToString();
        var length = body is null ? "" : $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n";
        var head = $"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: {key}\r\n{length}Connection: close\r\n" +
            $"{string.Concat(headers.Select(h => h + "\r\n"))}\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head + body));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task IdempotencyKey_RepeatSayingTheSameInOtherWords_IsTheSameRequest()
    {
        var id = await _merchant.NewTransactionAsync();
        async Task<HttpResponseMessage> MoveAsync(string json, params string[] keys)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions")
            {
                Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", keys.Length == 0 ? ["move-worded"] : keys);
            return await _merchant.SendAsync(request);
        }
        // Two header lines (a client joining them into one, as HttpClient does, sends one key).
        Assert.StartsWith("HTTP/1.1 400 ", await RawPostAsync($"/v1/transactions/{id}/transitions", """{"to":"PROCESSING"}""",
            "Idempotency-Key: p", "Idempotency-Key: q"), StringComparison.Ordinal);
        Assert.Equal(1, await EventCountAsync(id));
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"PROCESSING"}""")).StatusCode);
        // No data, data as null or as {}, and fields Herald sets given as null: the same request.
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"PROCESSING","data":null}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"PROCESSING","data":{}}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"PROCESSING","data":{"internalId":null}}""")).StatusCode);
        Assert.Equal(2, await EventCountAsync(id));
        // A state in its other spelling is the same state.
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"DECLINED"}""", "decline")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync("""{"to":"DECINED"}""", "decline")).StatusCode);
        Assert.Equal(3, await EventCountAsync(id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task IdempotencyKey_RecordedByAnEarlierRelease_StillReplays(bool membersInNameOrder)
    {
        var id = await _merchant.NewTransactionAsync();
        const string body = """{"to":"DECLINED","data":{"paymentAmount":130,"currency":"BRL"}}""";
        async Task<HttpResponseMessage> MoveAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "kept-across-upgrade");
            return await _merchant.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.OK, (await MoveAsync()).StatusCode);
        // The key as an earlier release kept it: the hash of the body as written, or with its members in name order.
        var written = membersInNameOrder
            ? """{"data":{"currency":"BRL","paymentAmount":130},"to":"DECLINED"}"""
            : body;
        var earlier = $"transaction:{id}:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(written)))}";
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_herald.DataDirectory, "herald.db")}"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE idempotency_keys SET request_hash = $hash WHERE key = 'kept-across-upgrade'";
            update.Parameters.AddWithValue("$hash", earlier);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await MoveAsync()).StatusCode);
        Assert.Equal(2, await EventCountAsync(id));
    }

    [Fact]
    public async Task ATransitionsData_IsJudgedAfterItsState_AndNamedByItsPathInTheBody()
    {
        var intent = (await _merchant.PostJsonAsync("/v1/payment_intents",
            new { amount = 100, site = "mlb", client_id = 1, caller_id = 2, additional_info = new { external_reference = "x" } })).Str("id");
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/payment_intents/{intent}/transitions",
            new { to = "BOGUS", data = new { payment = new { id = 1, state = "a", type = "b" } } }), 400, "unknown payment_intent state 'BOGUS'");

        var id = await _merchant.NewTransactionAsync();
        await ExpectErrorAsync(await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions",
            new { to = "PROCESSING", data = new { customer = new { name = 1 } } }), 400, "data: a string is expected at $.data.customer.name");
        await ExpectErrorAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", """{"to":"PROCESSING","data":{"orderDetails":[null]}}"""),
            400, "data.orderDetails[0] may not be null");
        await ExpectErrorAsync(await PostRawAsync("/v1/transactions", """{"paymentAmount":1,"currency":"BRL","orderDetails":[null]}"""),
            400, "transaction.orderDetails[0] may not be null");
        Assert.Equal(1, await EventCountAsync(id));
    }

    [Fact]
    public async Task ALongValueNamedInAnError_IsCutShort()
    {
        var format = new string('f', 200_000);
        var body = await ExpectErrorAsync(await _merchant.PostAsJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format }), 400,
            $"unknown format '{new string('f', 64)}…'");
        Assert.InRange(body.ToJsonString().Length, 0, 499);
        await ExpectErrorAsync(await _merchant.GetAsync("/v1/notifications?status=" + new string('s', 5000)), 400, $"unknown status '{new string('s', 64)}…'");
    }

    [Fact]
    public async Task AnUnknownKey_Is401SayingHowToAuthenticate()
    {
        using var stranger = _herald.As("hk_nobody_0123456789abcdef");
        using var response = await stranger.GetAsync("/v1/endpoints");
        await ExpectErrorAsync(response, 401, "");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ACompressedBody_Is415()
    {
        var content = new StringContent("""{"amount":10,"currency":"BRL"}""", Encoding.UTF8, "application/json");
        content.Headers.ContentEncoding.Add("gzip");
        await ExpectErrorAsync(await _merchant.PostAsync("/v1/payment_orders", content), 415, "uncompressed");
    }

    [Fact]
    public async Task Head_IsAnsweredWhereGetIs_WithItsStatusAndHeadersAndNoBody()
    {
        async Task<HttpResponseMessage> HeadAsync(HttpClient client, string path) =>
            await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        // On the wire: the head alone, nothing after its blank line (HttpClient would not read a body a HEAD got).
        var raw = await RawAsync("HEAD", "/v1/notifications", null, []);
        Assert.StartsWith("HTTP/1.1 200 ", raw, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\n\r\n", raw[..^4], StringComparison.Ordinal);
        using (var health = await HeadAsync(_herald.Client, "/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        using (var list = await HeadAsync(_merchant, "/v1/notifications"))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Equal("application/json", list.Content.Headers.ContentType!.MediaType);
        }
        using (var unknown = await HeadAsync(_merchant, "/v1/endpoints/ep_nobody"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        using (var keyless = await HeadAsync(_herald.Client, "/v1/notifications"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, keyless.StatusCode);
        }
        // A route that takes no GET takes no HEAD; the connection goes on serving after each.
        var id = await _merchant.NewTransactionAsync();
        using (var transition = await HeadAsync(_merchant, $"/v1/transactions/{id}/transitions"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, transition.StatusCode);
        }
        Assert.Equal(1, await EventCountAsync(id));
    }

    [Fact]
    public async Task AnOpenApiDocumentOfAnotherName_Is404InTheErrorShape()
    {
        await ExpectErrorAsync(await _herald.Client.GetAsync("/openapi/v2.json"), 404, "");
        // Nor is another document asked for by the query: the one there is, is answered.
        Assert.Equal(HttpStatusCode.OK, (await _herald.Client.GetAsync("/openapi/v1.json?documentName=x")).StatusCode);
    }

    [Theory]
    [InlineData("/v1/endpoints/", "endpoint ")]
    [InlineData("/v1/transactions/", "transaction ")]
    [InlineData("/v1/payment_orders/", "payment_order ")]
    [InlineData("/v1/notifications/", "notification ")]
    [InlineData("/v1/events/", "event ")]
    [InlineData("/v1/checkout_preferences/", "checkout preference ")]
    [InlineData("/v1/api_keys/", "API key ")]
    [InlineData("/v1/event_types/", "event type ")]
    [InlineData("/v1/merchants/", "merchant ")]
    [InlineData("/v1/operator/endpoints/", "endpoint ")]
    public async Task ANotFoundAnswer_RepeatsOnlyTheStartOfALongId(string route, string what)
    {
        using var admin = _herald.As(HeraldHost.AdminKey);
        var client = route.StartsWith("/v1/merchants", StringComparison.Ordinal) || route.StartsWith("/v1/operator", StringComparison.Ordinal) ? admin : _merchant;
        var body = await ExpectErrorAsync(await client.GetAsync(route + new string('x', 5000)), 404, what + new string('x', 64) + "…");
        var message = body["message"]![0]!.GetValue<string>();
        Assert.True(message.Length < 200, $"a message of {message.Length} characters");
        // An id of an ordinary length is named whole.
        await ExpectErrorAsync(await client.GetAsync(route + "ep_01m95kmtjgj58zd1bg3t2162zz"), 404, what + "ep_01m95kmtjgj58zd1bg3t2162zz");
    }

    [Fact]
    public async Task OpenApiDocument_IsServedAndNamesTheRoutes()
    {
        var doc = await _herald.Client.GetJsonAsync("/openapi/v1.json");
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/v1/transactions/{id}/transitions", paths);
        Assert.Contains("/v1/notifications/{id}/resend", paths);
        Assert.Contains("/v1/checkout_preferences", paths);
    }
}

public sealed class ProductionModeTests
{
    [Fact]
    public async Task PlainHttpOrLoopbackEndpoint_WithoutDev_Is400()
    {
        await using var herald = await HeraldHost.StartAsync(development: false);
        using var merchant = await herald.NewMerchantAsync();
        var response = await merchant.PostAsJsonAsync("/v1/endpoints", new { url = "http://example.com/hook", format = "thin" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("must use https", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        response = await merchant.PostAsJsonAsync("/v1/endpoints", new { url = "https://127.0.0.1/hook", format = "thin" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("loopback", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var endpoints = await merchant.GetJsonAsync("/v1/endpoints");
        Assert.Empty(endpoints["data"]!.AsArray());
    }
}
