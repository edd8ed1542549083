using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// The OpenAPI document describes the API a client generated from it will call: the field names,
/// types and statuses Herald reads and answers.
/// </summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private JsonObject _document = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync();
        _document = await _herald.Client.GetJsonAsync("/openapi/v1.json");
    }

    public async Task DisposeAsync() => await _herald.DisposeAsync();

    [Fact]
    public void BodyFields_AreSnakeCase_SeedTransactionFieldsCamelCase()
    {
        var request = RequestSchema("post", "/v1/endpoints");
        Assert.Equal(
            ["url", "format", "description", "event_types", "success", "retry", "timeout_seconds", "ordered", "max_concurrency", "rate_limit", "headers"],
            PropertyNames(request));
        Assert.Equal(["format", "url"], request["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));

        var answer = ResponseSchema("post", "/v1/endpoints", "201");
        Assert.Contains("timeout_seconds", PropertyNames(answer));
        Assert.Contains("created_at", PropertyNames(answer));
        Assert.Contains("has_more", PropertyNames(ResponseSchema("get", "/v1/endpoints", "200")));
        Assert.Contains("preference_id", PropertyNames(RequestSchema("post", "/v1/payment_orders")));
        Assert.Contains("client_id", PropertyNames(RequestSchema("post", "/v1/payment_intents")));
        Assert.Contains("grace_seconds", PropertyNames(RequestSchema("post", "/v1/endpoints/{id}/rotate_secret")));

        var transaction = RequestSchema("post", "/v1/transactions");
        Assert.Contains("paymentAmount", PropertyNames(transaction));
        Assert.Contains("orderDetails", PropertyNames(transaction));
        Assert.Contains("shippingAddress", PropertyNames(transaction));
        var customer = Resolve(Property(transaction, "customer"));
        Assert.Contains("userAgent", PropertyNames(customer));
        Assert.Contains("zipCode", PropertyNames(Resolve(Property(customer, "address"))));
        Assert.Contains("productName", PropertyNames(Resolve(Property(transaction, "orderDetails")["items"]!)));
        Assert.Equal(100, Property(transaction, "orderDetails")["maxItems"]!.GetValue<int>());
    }

    [Fact]
    public async Task AnswersWrittenWithTheHttpJsonOptions_AreAsBefore()
    {
        // The document is made from those options; what Herald writes with them is a stored document and the health status.
        HttpResponseMessage? health = null;
        await HeraldHost.EventuallyAsync(async () => (health = await _herald.Client.GetAsync("/readyz")).IsSuccessStatusCode);
        Assert.Equal("""{"status":"ready"}""", await health!.Content.ReadAsStringAsync());
        using var merchant = await _herald.NewMerchantAsync();
        var id = await merchant.NewTransactionAsync();

        var read = await merchant.GetJsonAsync("/v1/transactions/" + id);

        var expected = Merchant.SeedTransaction().Select(p => p.Key).Append("internalId").Append("status");
        Assert.Equal(expected.Order(StringComparer.Ordinal), read.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("W9 3RG", read["customer"]!["address"]!["zipCode"]!.GetValue<string>());
        Assert.Equal(130, read["paymentAmount"]!.GetValue<decimal>());
    }

    [Fact]
    public void Numbers_AreTypedAsNumbersOnly()
    {
        var numbers = Schemas(_document).Where(s => Types(s).Overlaps(["integer", "number"])).ToList();
        Assert.NotEmpty(numbers);
        Assert.All(numbers, n =>
        {
            Assert.DoesNotContain("string", Types(n));
            Assert.Null(n["pattern"]);
        });
        Assert.Equal(["integer", "null"], Types(Property(RequestSchema("post", "/v1/endpoints"), "timeout_seconds")).Order(StringComparer.Ordinal));
        Assert.Equal(["number"], Types(Property(RequestSchema("post", "/v1/transactions"), "paymentAmount")));
    }

    [Fact]
    public async Task EndpointBody_MadeFromTheDocumentsNames_IsAccepted()
    {
        // The values a client would give, found by field whatever its case; the names are the document's.
        var values = new Dictionary<string, JsonNode>
        {
            ["url"] = "http://127.0.0.1:9/hooks",
            ["format"] = "transaction",
            ["description"] = "orders",
            ["eventtypes"] = new JsonArray("TRANSACTION.COMPLETED"),
            ["success"] = "2xx",
            ["retry"] = "hourly",
            ["timeoutseconds"] = 7,
            ["ordered"] = true,
            ["maxconcurrency"] = 3,
            ["ratelimit"] = 11,
            ["headers"] = new JsonObject { ["X-Shop"] = "north" },
        };
        var body = new JsonObject();
        foreach (var name in PropertyNames(RequestSchema("post", "/v1/endpoints")))
        {
            body[name] = values[name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant()].DeepClone();
        }
        using var merchant = await _herald.NewMerchantAsync();

        var response = await merchant.PostAsJsonAsync("/v1/endpoints", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var answer = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(PropertyNames(ResponseSchema("post", "/v1/endpoints", "201")).Order(StringComparer.Ordinal), answer.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(7, answer["timeout_seconds"]!.GetValue<int>());
        Assert.Equal("TRANSACTION.COMPLETED", answer["event_types"]![0]!.GetValue<string>());
        Assert.Equal("north", answer["headers"]!["X-Shop"]!.GetValue<string>());
    }

    /// <summary>Every route with the success it answers: 201 creates, 202 accepted, 204 no content, 200 otherwise.</summary>
    private static readonly (string Method, string Path, string Status)[] Successes =
    [
        ("get", "/healthz", "200"),
        ("get", "/readyz", "200"),
        ("get", "/v1/stats", "200"),
        ("post", "/v1/merchants", "201"),
        ("get", "/v1/merchants", "200"),
        ("get", "/v1/merchants/{id}", "200"),
        ("patch", "/v1/merchants/{id}", "200"),
        ("post", "/v1/merchants/{id}/api_keys", "201"),
        ("post", "/v1/merchants/{id}/portal_links", "201"),
        ("delete", "/v1/merchants/{id}/portal_sessions", "204"),
        ("get", "/v1/merchants/{id}/api_keys", "200"),
        ("get", "/v1/merchants/{id}/api_keys/{keyId}", "200"),
        ("delete", "/v1/merchants/{id}/api_keys/{keyId}", "204"),
        ("delete", "/v1/merchants/{id}/data", "204"),
        ("post", "/v1/operator/endpoints", "201"),
        ("get", "/v1/operator/endpoints", "200"),
        ("get", "/v1/operator/endpoints/{id}", "200"),
        ("delete", "/v1/operator/endpoints/{id}", "204"),
        ("patch", "/v1/operator/endpoints/{id}", "200"),
        ("post", "/v1/operator/endpoints/{id}/rotate_secret", "200"),
        ("post", "/v1/operator/endpoints/{id}/pause", "200"),
        ("post", "/v1/operator/endpoints/{id}/resume", "200"),
        ("post", "/v1/operator/endpoints/{id}/test", "200"),
        ("post", "/v1/api_keys", "201"),
        ("get", "/v1/api_keys", "200"),
        ("get", "/v1/api_keys/{id}", "200"),
        ("delete", "/v1/api_keys/{id}", "204"),
        ("post", "/v1/endpoints", "201"),
        ("get", "/v1/endpoints", "200"),
        ("get", "/v1/endpoints/{id}", "200"),
        ("patch", "/v1/endpoints/{id}", "200"),
        ("delete", "/v1/endpoints/{id}", "204"),
        ("post", "/v1/endpoints/{id}/rotate_secret", "200"),
        ("post", "/v1/endpoints/{id}/pause", "200"),
        ("post", "/v1/endpoints/{id}/resume", "200"),
        ("post", "/v1/endpoints/{id}/test", "200"),
        ("post", "/v1/endpoints/{id}/recover", "202"),
        ("post", "/v1/checkout_preferences", "201"),
        ("get", "/v1/checkout_preferences", "200"),
        ("get", "/v1/checkout_preferences/{id}", "200"),
        ("post", "/v1/payment_intents", "201"),
        ("get", "/v1/payment_intents/{id}", "200"),
        ("post", "/v1/payment_intents/{id}/transitions", "200"),
        ("post", "/v1/payment_orders", "201"),
        ("get", "/v1/payment_orders/{id}", "200"),
        ("post", "/v1/payment_orders/{id}/transitions", "200"),
        ("post", "/v1/transactions", "201"),
        ("get", "/v1/transactions/{id}", "200"),
        ("post", "/v1/transactions/{id}/transitions", "200"),
        ("get", "/v1/events", "200"),
        ("get", "/v1/events/{id}", "200"),
        ("get", "/v1/event_types", "200"),
        ("get", "/v1/event_types/{type}", "200"),
        ("get", "/v1/notifications", "200"),
        ("get", "/v1/notifications/{id}", "200"),
        ("post", "/v1/notifications/{id}/resend", "202"),
    ];

    [Fact]
    public void EveryRoute_DocumentsTheSuccessItAnswers()
    {
        var operations = _document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(method => (Method: method.Key, Path: path.Key)))
            .Order().ToList();
        Assert.Equal(Successes.Select(s => (s.Method, s.Path)).Order(), operations);
        Assert.All(Successes, s =>
        {
            var responses = Operation(s.Method, s.Path)["responses"]!.AsObject();
            Assert.Equal([s.Status], responses.Select(r => r.Key).Where(code => code.StartsWith('2')));
            // A body with every success but 204, and one that names its fields.
            var content = responses[s.Status]!["content"]?["application/json"]?["schema"];
            Assert.True(s.Status == "204" ? content is null : content is not null && Resolve(content)["properties"] is JsonObject, $"{s.Method} {s.Path}");
        });
        Assert.Contains("503", Operation("get", "/readyz")["responses"]!.AsObject().Select(r => r.Key));
    }

    [Fact]
    public void RotateSecret_MayBeCalledWithoutABody()
    {
        Assert.False(Operation("post", "/v1/endpoints/{id}/rotate_secret")["requestBody"]!["required"]?.GetValue<bool>() ?? false);
        Assert.True(Operation("post", "/v1/endpoints/{id}/recover")["requestBody"]!["required"]!.GetValue<bool>());
        Assert.True(Operation("post", "/v1/transactions")["requestBody"]!["required"]!.GetValue<bool>());
    }

    [Fact]
    public void OperatorTest_NamesNoEventType()
    {
        // An operator webhook's test refuses event_type (400): a client made from the document is not offered one.
        var merchants = Operation("post", "/v1/endpoints/{id}/test");
        Assert.Contains("event_type", merchants["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(merchants["requestBody"]);
        var operators = Operation("post", "/v1/operator/endpoints/{id}/test");
        Assert.Null(operators["requestBody"]);
        // It refuses a body as a route that takes none does: too large, or not JSON.
        Assert.Equal(["200", "400", "401", "403", "404", "408", "413", "415", "429", "503", "default"], operators["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("event_type", operators["summary"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntityAnswers_HaveTheDocumentedFields()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var intent = await merchant.PostJsonAsync("/v1/payment_intents", new
        {
            amount = 1500, site = "mla", client_id = 7, caller_id = 9,
            additional_info = new { external_reference = "r-1", ticket_number = "t-1" },
        });
        var finished = await merchant.MoveAsync("payment_intents", intent.Str("id"), "FINISHED",
            new { payment = new { id = 42, state = "approved", type = "credit_card" } });
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 12.5, currency = "BRL", description = "two shirts" });
        var transaction = await merchant.PostJsonAsync("/v1/transactions", Merchant.SeedTransaction());
        var moved = await merchant.MoveAsync("transactions", transaction.Str("internalId"), "PROCESSING");

        AssertDocumented(intent, ResponseSchema("post", "/v1/payment_intents", "201"), "intent");
        AssertDocumented(finished, ResponseSchema("post", "/v1/payment_intents/{id}/transitions", "200"), "finished intent");
        AssertDocumented(await merchant.GetJsonAsync("/v1/payment_intents/" + intent.Str("id")), ResponseSchema("get", "/v1/payment_intents/{id}", "200"), "read intent");
        AssertDocumented(order, ResponseSchema("post", "/v1/payment_orders", "201"), "order");
        AssertDocumented(transaction, ResponseSchema("post", "/v1/transactions", "201"), "transaction");
        AssertDocumented(moved, ResponseSchema("post", "/v1/transactions/{id}/transitions", "200"), "moved transaction");
    }

    [Fact]
    public void ApiRoutes_TakeABearerKey_OperationsRoutesNone()
    {
        var scheme = _document["components"]!["securitySchemes"]!["bearer"]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());
        Assert.Contains("hk_admin_", scheme["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.All(Successes, s =>
        {
            var security = Operation(s.Method, s.Path)["security"];
            if (s.Path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                Assert.Equal(["bearer"], security!.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)));
            }
            else
            {
                Assert.Empty(security!.AsArray());
            }
        });
    }

    [Fact]
    public void ApiRoutes_DocumentTheErrorShape()
    {
        var error = _document["components"]!["schemas"]!["ErrorBody"]!.AsObject();
        Assert.Equal(["statusCode", "message", "error"], PropertyNames(error));
        Assert.Equal(["error", "message", "statusCode"], error["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal("integer", Property(error, "statusCode")["type"]!.GetValue<string>());
        Assert.Equal("string", Property(error, "message")["items"]!["type"]!.GetValue<string>());
        // Kiota takes a field named message for its exception's Message, a string, unless another is
        // marked: here message is a list, and the client it made did not compile.
        Assert.True(Property(error, "error")["x-ms-primary-error-message"]!.GetValue<bool>());
        Assert.All(Successes.Where(s => s.Path.StartsWith("/v1/", StringComparison.Ordinal)), s =>
        {
            var schema = Operation(s.Method, s.Path)["responses"]!["default"]!["content"]!["application/json"]!["schema"]!;
            Assert.Equal("#/components/schemas/ErrorBody", schema["$ref"]!.GetValue<string>());
        });
    }

    [Fact]
    public void FreeFormObjects_TakeAnyField_AndEveryComponentIsReferredTo()
    {
        // {"type": "object"} alone is read by openapi-typescript as Record<string, never>: a preference's
        // items could not be given, nor an event's data read, without a cast.
        var freeForm = new[]
        {
            Property(RequestSchema("post", "/v1/checkout_preferences"), "items")["items"]!,
            Property(ResponseSchema("get", "/v1/checkout_preferences/{id}", "200"), "items")["items"]!,
            Resolve(Property(ResponseSchema("get", "/v1/events/{id}", "200"), "data")),
        };
        Assert.All(freeForm, schema => Assert.Equal("{}", schema["additionalProperties"]?.ToJsonString()));
        // A component nothing refers to is reported by every linter (Spectral: an array without items).
        var document = _document.ToJsonString();
        Assert.All(_document["components"]!["schemas"]!.AsObject().Select(c => c.Key),
            name => Assert.Contains($"\"#/components/schemas/{name}\"", document, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryResponse_IsKeyedByAStatusOrDefault_NotByARange()
    {
        // NSwag (behind dotnet-openapi and OpenApiReference) writes a range as "status_ == 4XX",
        // which does not compile: the errors are the default answer, which every generator reads.
        var keys = ((JsonObject)_document["paths"]!).SelectMany(p => p.Value!.AsObject()
            .Where(o => o.Value?["responses"] is JsonObject)
            .SelectMany(o => o.Value!["responses"]!.AsObject().Select(r => $"{o.Key.ToUpperInvariant()} {p.Key} {r.Key}")));
        Assert.All(keys, key => Assert.Matches("( [1-5][0-9][0-9]| default)$", key));
    }

    [Fact]
    public async Task AnError_HasTheDocumentedShape()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var response = await merchant.GetAsync("/v1/transactions/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertDocumented(JsonNode.Parse(await response.Content.ReadAsStringAsync()), Operation("get", "/v1/transactions/{id}")["responses"]!["404"]!["content"]!["application/json"]!["schema"]!, "error");
    }

    [Fact]
    public async Task CreatesAndTransitions_TakeAnIdempotencyKey_NoOtherRoute()
    {
        var withHeader = Successes
            .Where(s => Operation(s.Method, s.Path)["parameters"]?.AsArray().Any(p => p!["in"]!.GetValue<string>() == "header") == true)
            .Select(s => s.Path).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["/v1/checkout_preferences", "/v1/endpoints", "/v1/payment_intents", "/v1/payment_intents/{id}/transitions", "/v1/payment_orders", "/v1/payment_orders/{id}/transitions",
            "/v1/transactions", "/v1/transactions/{id}/transitions"], withHeader);
        Assert.Equal("header", Operation("post", "/v1/transactions")["parameters"]!.AsArray().Single()!["in"]!.GetValue<string>());
        var header = Operation("post", "/v1/transactions/{id}/transitions")["parameters"]!.AsArray().Single(p => p!["in"]!.GetValue<string>() == "header")!;
        Assert.False(header["required"]?.GetValue<bool>() ?? false);
        Assert.Equal("string", header["schema"]!["type"]!.GetValue<string>());

        using var merchant = await _herald.NewMerchantAsync();
        var id = await merchant.NewTransactionAsync();
        var answers = new List<string>();
        for (var call = 0; call < 2; call++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/transactions/{id}/transitions") { Content = JsonContent.Create(new { to = "PROCESSING" }) };
            request.Headers.Add(header["name"]!.GetValue<string>(), "retry-1");
            var response = await merchant.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answers.Add(await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(answers[0], answers[1]);
        var events = await merchant.GetJsonAsync("/v1/events?entity_id=" + id);
        Assert.Equal(2, events["data"]!.AsArray().Count);
    }

    [Fact]
    public void Transaction_FieldsHeraldSets_AreReadOnly()
    {
        var transaction = RequestSchema("post", "/v1/transactions");
        var readOnly = transaction["properties"]!.AsObject().Where(p => p.Value!["readOnly"]?.GetValue<bool>() == true).Select(p => p.Key);
        Assert.Equal(["internalId", "status"], readOnly);
        Assert.DoesNotContain("internalId", transaction["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? []);
    }

    [Fact]
    public void TheValuesTheApiChecks_AreInTheDocument()
    {
        var endpoint = RequestSchema("post", "/v1/endpoints");
        Assert.Equal(["transaction", "point", "thin"], Enum(Property(endpoint, "format")));
        Assert.Equal(["full", "read"], Enum(Property(RequestSchema("post", "/v1/api_keys"), "scope")));
        Assert.Equal(["200", "2xx"], Enum(Property(endpoint, "success")).Order(StringComparer.Ordinal));
        Assert.Equal(["exponential", "hourly"], Enum(Property(endpoint, "retry")).Order(StringComparer.Ordinal));
        Assert.Contains(null, Property(endpoint, "retry")["enum"]!.AsArray());
        Assert.DoesNotContain(null, Property(endpoint, "format")["enum"]!.AsArray());
        var types = Enum(Property(endpoint, "event_types")["items"]!.AsObject());
        Assert.Contains("TRANSACTION.DECINED", types);
        Assert.Contains("TRANSACTION.DECLINED", types);
        Assert.Contains("PAYMENT_ORDER.CLOSED", types);
        Assert.DoesNotContain("PAYMENT_INTENT.OPEN", types);
        Assert.Equal(("1", "60"), Range(Property(endpoint, "timeout_seconds")));
        Assert.Equal(("0", "1000"), Range(Property(RequestSchema("patch", "/v1/endpoints/{id}"), "max_concurrency")));
        Assert.Equal(("0", "604800"), Range(Property(RequestSchema("post", "/v1/endpoints/{id}/rotate_secret"), "grace_seconds")));
        Assert.Equal(200, Property(RequestSchema("post", "/v1/merchants"), "name")["maxLength"]!.GetValue<int>());

        var intent = RequestSchema("post", "/v1/payment_intents");
        Assert.Equal(["mla", "mlb", "mlm"], Enum(Property(intent, "site")));
        Assert.Contains("yyyy-MM-dd HH:mm:ss", Property(ResponseSchema("get", "/v1/payment_intents/{id}", "200"), "created_at")["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("integer", Property(intent, "amount")["type"]!.GetValue<string>());
        Assert.Equal("0", Property(intent, "client_id")["exclusiveMinimum"]!.ToJsonString());
        Assert.Equal("0", Property(intent, "caller_id")["exclusiveMinimum"]!.ToJsonString());
        Assert.Equal("^[A-Z]{2}$", Property(RequestSchema("post", "/v1/transactions"), "country")["pattern"]!.GetValue<string>());
        var order = RequestSchema("post", "/v1/payment_orders");
        Assert.Equal("decimal", Property(order, "amount")["format"]!.GetValue<string>());
        Assert.Equal("^[A-Z]{3}$", Property(order, "currency")["pattern"]!.GetValue<string>());
        Assert.Equal(["currency", "paymentAmount"], Required(RequestSchema("post", "/v1/transactions")));
        Assert.Equal(["number"], Types(Property(RequestSchema("post", "/v1/transactions"), "paymentAmount")));
        Assert.Equal(["string"], Types(Property(RequestSchema("post", "/v1/transactions"), "currency")));
        Assert.Equal("0", Property(order, "amount")["exclusiveMinimum"]!.ToJsonString());
        var recover = RequestSchema("post", "/v1/endpoints/{id}/recover");
        Assert.Equal(["since"], Required(recover));
        Assert.Equal(["string"], Types(Property(recover, "since")));

        // Lengths and shapes of texts: a client refuses one too long, or a URL that is none, before sending it.
        Assert.Equal(2048, Property(endpoint, "url")["maxLength"]!.GetValue<int>());
        Assert.StartsWith("^[Hh][Tt][Tt][Pp][Ss]?://", Property(endpoint, "url")["pattern"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2048, Property(RequestSchema("patch", "/v1/operator/endpoints/{id}"), "url")["maxLength"]!.GetValue<int>());
        Assert.Equal(1024, Property(endpoint, "description")["maxLength"]!.GetValue<int>());
        Assert.Equal(20, Property(endpoint, "headers")["maxProperties"]!.GetValue<int>());
        Assert.Equal(1024, Property(endpoint, "headers")["additionalProperties"]!["maxLength"]!.GetValue<int>());
        Assert.Equal(64, Property(Resolve(Property(intent, "additional_info")), "ticket_number")["maxLength"]!.GetValue<int>());
        Assert.Equal(64, Property(order, "preference_id")["maxLength"]!.GetValue<int>());
        Assert.Equal(1024, Property(order, "description")["maxLength"]!.GetValue<int>());
        Assert.Equal(1024, Property(Resolve(Property(RequestSchema("post", "/v1/transactions"), "customer")), "name")["maxLength"]!.GetValue<int>());
        Assert.Null(Property(RequestSchema("post", "/v1/transactions"), "currency")["maxLength"]);
        Assert.Equal("date-time", Property(ResponseSchema("get", "/v1/endpoints/{id}", "200"), "failing_since")["format"]!.GetValue<string>());
        var idempotencyKey = Operation("post", "/v1/transactions")["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "Idempotency-Key")!;
        Assert.Equal(1, idempotencyKey["schema"]!["minLength"]!.GetValue<int>());

        var limit = Parameter("get", "/v1/notifications", "limit");
        Assert.Equal(("1", "100"), Range(limit));
        Assert.Equal(20, limit["default"]!.GetValue<int>());
        Assert.Equal(["pending", "succeeded", "dead"], Enum(Parameter("get", "/v1/notifications", "status")));
        Assert.Contains("TRANSACTION.DECLINED", Enum(Parameter("get", "/v1/notifications", "event_type")));

        var preference = ResponseSchema("post", "/v1/checkout_preferences", "201");
        Assert.Equal(["array", "null"], Types(Property(preference, "items")).Order(StringComparer.Ordinal));
        Assert.Equal("object", Property(preference, "items")["items"]!["type"]!.GetValue<string>());
        Assert.Equal(["status_changes_webhook"], PropertyNames(Resolve(Property(preference, "custom_urls"))));
        var transition = RequestSchema("post", "/v1/transactions/{id}/transitions");
        Assert.Contains("DECINED", Enum(Property(transition, "to")));
        Assert.Contains("DECLINED", Enum(Property(transition, "to")));
        Assert.DoesNotContain("FINISHED", Enum(Property(transition, "to")));
        Assert.DoesNotContain("INIT", Enum(Property(transition, "to")));
        Assert.DoesNotContain("OPENED", Enum(Property(RequestSchema("post", "/v1/payment_orders/{id}/transitions"), "to")));
        // What an answer holds: a transaction's status as seed 003 spells it; an event's type, notified or not.
        var transactionStatus = Enum(Property(ResponseSchema("get", "/v1/transactions/{id}", "200"), "status"));
        Assert.Contains("DECINED", transactionStatus);
        Assert.Contains("INIT", transactionStatus);
        Assert.DoesNotContain("DECLINED", transactionStatus);
        Assert.Contains("PAYMENT_INTENT.OPEN", Enum(Property(ResponseSchema("get", "/v1/events/{id}", "200"), "type")));
        var moveOrder = RequestSchema("post", "/v1/payment_orders/{id}/transitions");
        Assert.Equal(["description", "external_reference"], PropertyNames(Resolve(Property(moveOrder, "data"))).Order(StringComparer.Ordinal));
        Assert.Contains("payment", PropertyNames(Resolve(Property(RequestSchema("post", "/v1/payment_intents/{id}/transitions"), "data"))));
        Assert.All(Successes.Where(s => s.Status == "201"), s =>
            Assert.Equal("string", Operation(s.Method, s.Path)["responses"]!["201"]!["headers"]!["Location"]!["schema"]!["type"]!.GetValue<string>()));
        var refused = Operation("post", "/v1/endpoints")["responses"]!;
        Assert.Contains("JSON", refused["415"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("integer", refused["429"]!["headers"]!["Retry-After"]!["schema"]!["type"]!.GetValue<string>());
        // A 503 (the database unavailable, a queue full) says when to ask again too.
        Assert.Equal("string", refused["401"]!["headers"]!["WWW-Authenticate"]!["schema"]!["type"]!.GetValue<string>());
        Assert.Contains("did not arrive in time", refused["408"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(Operation("get", "/v1/endpoints")["responses"]!["408"]);
        var failed = Operation("post", "/v1/transactions")["responses"]!["503"]!;
        Assert.Contains("database", failed["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("integer", failed["headers"]!["Retry-After"]!["schema"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task EveryValueTheDocumentLists_IsTaken_AndOneOutsideIsRefused()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var endpoint = RequestSchema("post", "/v1/endpoints");
        foreach (var format in Enum(Property(endpoint, "format")))
        {
            foreach (var success in Enum(Property(endpoint, "success")))
            {
                foreach (var retry in Enum(Property(endpoint, "retry")))
                {
                    await merchant.PostJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format, success, retry }, 201);
                }
            }
        }
        var formatOf = new Dictionary<string, string>(StringComparer.Ordinal) { ["TRANSACTION"] = "transaction", ["PAYMENT_INTENT"] = "point", ["PAYMENT_ORDER"] = "thin" };
        foreach (var type in Enum(Property(endpoint, "event_types")["items"]!.AsObject()))
        {
            var format = formatOf[type[..type.IndexOf('.', StringComparison.Ordinal)]];
            await merchant.PostJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format, event_types = new[] { type } }, 201);
        }
        foreach (var status in Enum(Parameter("get", "/v1/notifications", "status")))
        {
            Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/v1/notifications?status=" + status)).StatusCode);
        }
        foreach (var site in Enum(Property(RequestSchema("post", "/v1/payment_intents"), "site")))
        {
            var additional = site == "mla" ? new { external_reference = "r", ticket_number = "t" } : new { external_reference = "r", ticket_number = (string)null! };
            await merchant.PostJsonAsync("/v1/payment_intents", new { amount = 100, site, client_id = 1, caller_id = 2, additional_info = additional }, 201);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await merchant.PostAsJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "thin", retry = "daily" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await merchant.GetAsync("/v1/notifications?status=failed")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await merchant.GetAsync("/v1/notifications?limit=101")).StatusCode);
    }

    [Fact]
    public async Task ATransaction_WithTheFieldsHeraldSetsAsNull_IsTaken_AsAGeneratedClientMaySendIt()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var body = Merchant.SeedTransaction();
        body["internalId"] = null;
        body["status"] = null;

        var created = await merchant.PostJsonAsync("/v1/transactions", body, 201);

        Assert.Equal("INIT", created.Str("status"));
        Assert.False(string.IsNullOrEmpty(created.Str("internalId")));
        body["internalId"] = "mine";
        var refused = await merchant.PostAsJsonAsync("/v1/transactions", body);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("internalId is set by Herald", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhooks_DescribeWhatEachFormatDelivers_AsRealDeliveriesCarryIt()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var merchant = await _herald.NewMerchantAsync();
        foreach (var format in new[] { "transaction", "point", "thin" })
        {
            await merchant.AddEndpointAsync(receiver.Url + "/" + format, format);
        }
        // A transaction with only what creation needs (what the platform left out arrives null), a
        // payment order, and Point intents CANCELED (no payment) and FINISHED on another site than mla.
        await merchant.PostJsonAsync("/v1/transactions", new { paymentAmount = 10, currency = "BRL", country = "BR" }, 201);
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" }, 201);
        var canceled = (await merchant.PostJsonAsync("/v1/payment_intents", new { amount = 100, site = "mlb", client_id = 1, caller_id = 2 }, 201)).Str("id");
        await merchant.MoveAsync("payment_intents", canceled, "CANCELED");
        var finished = (await merchant.PostJsonAsync("/v1/payment_intents", new { amount = 100, site = "mla", client_id = 1, caller_id = 2,
            additional_info = new { external_reference = "x", ticket_number = "T1" } }, 201)).Str("id");
        await merchant.MoveAsync("payment_intents", finished, "FINISHED", new { payment = new { id = 1, state = "approved", type = "credit_card" } });
        await receiver.WaitForAsync(4);

        foreach (var format in new[] { "transaction", "point", "thin" })
        {
            var operation = _document["webhooks"]![format]!["post"]!.AsObject();
            // Every header a delivery carries is required; webhook-test, only on what a test sends, is not.
            Assert.Equal(["webhook-id", "webhook-timestamp", "webhook-signature", "webhook-attempt"],
                operation["parameters"]!.AsArray().Where(p => p!["required"]?.GetValue<bool>() == true).Select(p => p!["name"]!.GetValue<string>()));
            Assert.Equal(["webhook-test"],
                operation["parameters"]!.AsArray().Where(p => p!["required"]?.GetValue<bool>() != true).Select(p => p!["name"]!.GetValue<string>()));
            Assert.All(receiver.Received.Where(r => r.Path.EndsWith("/" + format, StringComparison.Ordinal)), r => Assert.False(r.Headers.ContainsKey("webhook-test")));
            var schema = operation["requestBody"]!["content"]!["application/json"]!["schema"]!;
            var bodies = receiver.Received.Where(r => r.Path.EndsWith("/" + format, StringComparison.Ordinal)).Select(r => JsonNode.Parse(r.Body)!).ToList();
            Assert.NotEmpty(bodies);
            foreach (var body in bodies)
            {
                AssertDocumented(body, schema, format);
            }
        }
        // What a receiver generated from the document can switch on: the states and types each format sends.
        JsonObject Sent(string format, string field) =>
            Property(_document["webhooks"]![format]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!.AsObject(), field);
        Assert.Equal(["FINISHED", "CANCELED", "ERROR"], Enum(Sent("point", "state")));
        Assert.Equal(["PAYMENT_ORDER.OPENED", "PAYMENT_ORDER.EXPIRED", "PAYMENT_ORDER.CLOSED", "PAYMENT_ORDER.REJECTED", "PAYMENT_ORDER.REFUNDED"], Enum(Sent("thin", "event_type")));
        Assert.Equal(["PAYMENT_ORDER"], Enum(Sent("thin", "entity_type")));
        Assert.Contains("DECINED", Enum(Sent("transaction", "status")));
        // The example is the one GET /v1/event_types/{type} shows.
        Assert.True(JsonNode.DeepEquals((await merchant.GetJsonAsync("/v1/event_types/TRANSACTION.COMPLETED"))["example"],
            _document["webhooks"]!["transaction"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!["example"]));
    }

    [Fact]
    public async Task Webhooks_DescribeWhatAnOperatorWebhookReceives_AsItsEventsCarryIt()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var admin = _herald.As(HeraldHost.AdminKey);
        var hook = (await admin.PostJsonAsync("/v1/operator/endpoints", new { url = receiver.Url + "/operator" }, 201)).Str("id");
        using var merchant = await _herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url + "/gone", "thin");
        // 410 Gone disables the merchant's endpoint: endpoint.disabled; and the webhook's own test.
        receiver.Answer = r => r.Path.EndsWith("/gone", StringComparison.Ordinal) ? 410 : 200;
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 5, currency = "BRL" }, 201);
        await admin.PostJsonAsync($"/v1/operator/endpoints/{hook}/test", new { }, 200);
        await HeraldHost.EventuallyAsync(() => Task.FromResult(receiver.Received.Count(r => r.Path.EndsWith("/operator", StringComparison.Ordinal)) >= 2));

        var operation = _document["webhooks"]!["operator"]!["post"]!;
        var schema = operation["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(["endpoint.disabled", "endpoint.failing", "endpoint.recovered", "notification.dead", "endpoint.test"], Enum(Property(schema.AsObject(), "type")));
        var bodies = receiver.Received.Where(r => r.Path.EndsWith("/operator", StringComparison.Ordinal)).Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(["endpoint.disabled", "endpoint.test"], bodies.Select(b => b.Str("type")).Order(StringComparer.Ordinal));
        foreach (var body in bodies)
        {
            AssertDocumented(body, schema, "operator");
        }
        AssertDocumented(schema["example"], schema, "operator example");
    }

    [Fact]
    public async Task Webhooks_DescribeWhatAnEndpointsTestSends_ForItArrivesAtEveryFormatsReceiver()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var merchant = await _herald.NewMerchantAsync();
        foreach (var format in new[] { "transaction", "point", "thin" })
        {
            var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url + "/" + format, format);
            await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/test", new { }, 200);
        }
        await receiver.WaitForAsync(3);

        var operation = _document["webhooks"]!["test"]!["post"]!.AsObject();
        var required = operation["parameters"]!.AsArray().Where(p => p!["required"]?.GetValue<bool>() == true).Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("webhook-test", required);
        var schema = operation["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.All(receiver.Received, r =>
        {
            Assert.All(required, name => Assert.True(r.Headers.ContainsKey(name), $"{r.Path}: no {name}"));
            AssertDocumented(JsonNode.Parse(r.Body), schema, "test" + r.Path);
        });
        // The formats' own operations say where a test's body is described.
        foreach (var format in new[] { "transaction", "point", "thin" })
        {
            var header = _document["webhooks"]![format]!["post"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "webhook-test")!;
            Assert.Contains("webhooks.test", header["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Webhooks_TypeEachFieldAsDeliveriesCarryIt_NullOnlyWhereThePlatformMayLeaveItOut_WholeNumbersAsIntegers()
    {
        JsonObject Field(string format, params string[] path)
        {
            var schema = _document["webhooks"]![format]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!.AsObject();
            foreach (var name in path)
            {
                schema = name == "[]" ? schema["items"]!.AsObject() : Property(schema, name);
            }
            return schema;
        }

        // Seed 000: a Point intent's amount and ids are whole numbers and, with its time, never left out.
        Assert.Equal(["integer"], Types(Field("point", "amount")));
        Assert.Equal(["integer"], Types(Field("point", "caller_id")));
        Assert.Equal(["integer"], Types(Field("point", "client_id")));
        Assert.Equal(["string"], Types(Field("point", "created_at")));
        Assert.Equal(["object"], Types(Field("point", "payment")));
        Assert.Equal(["integer"], Types(Field("point", "payment", "id")));
        Assert.Equal(["string"], Types(Field("point", "payment", "type")));
        Assert.Equal(["object"], Types(Field("point", "additional_info")));
        Assert.Equal(["string"], Types(Field("point", "additional_info", "ticket_number")));
        Assert.Equal(["null", "string"], Types(Field("point", "additional_info", "external_reference")).Order(StringComparer.Ordinal));

        // Seed 003: a transaction's amount (a decimal) and currency are never null; an order line's quantity is whole.
        Assert.Equal(["number"], Types(Field("transaction", "paymentAmount")));
        Assert.Equal(["string"], Types(Field("transaction", "currency")));
        Assert.Equal(["null", "string"], Types(Field("transaction", "sessionId")).Order(StringComparer.Ordinal));
        Assert.Equal(["object"], Types(Field("transaction", "orderDetails", "[]")));
        Assert.Equal(["integer", "null"], Types(Field("transaction", "orderDetails", "[]", "quantity")).Order(StringComparer.Ordinal));
        Assert.Equal(["null", "object"], Types(Field("transaction", "customer")).Order(StringComparer.Ordinal));

        Assert.All(new[] { "id", "event_type", "entity_type", "entity_id" }, name => Assert.Equal(["string"], Types(Field("thin", name))));
    }

    /// <summary>Every field of an answer is documented, with a type that admits its value, and every required field is there.</summary>
    private void AssertDocumented(JsonNode? value, JsonNode schema, string where)
    {
        if (value is null)
        {
            Assert.True(Types(schema.AsObject()).Contains("null") || schema["oneOf"] is JsonArray, $"{where} is null, which its schema does not allow");
            return;
        }
        var resolved = Resolve(schema);
        switch (value)
        {
            case JsonObject obj when resolved["properties"] is JsonObject properties:
                foreach (var (key, field) in obj)
                {
                    Assert.True(properties.ContainsKey(key), $"{where}.{key} is not documented");
                    AssertDocumented(field, properties[key]!, $"{where}.{key}");
                }
                foreach (var required in resolved["required"]?.AsArray() ?? [])
                {
                    Assert.True(obj.ContainsKey(required!.GetValue<string>()), $"{where}.{required} is documented as required");
                }
                break;
            case JsonArray array when resolved["items"] is { } items:
                foreach (var item in array)
                {
                    AssertDocumented(item, items, where + "[]");
                }
                break;
            case JsonValue scalar when Types(resolved).Count > 0:
                var kind = scalar.GetValueKind() switch
                {
                    System.Text.Json.JsonValueKind.String => "string",
                    System.Text.Json.JsonValueKind.Number => "number",
                    _ => "boolean",
                };
                Assert.True(Types(resolved).Contains(kind) || (kind == "number" && Types(resolved).Contains("integer")), $"{where} is a {kind}, documented as {string.Join('|', Types(resolved))}");
                break;
        }
    }

    private JsonObject Operation(string method, string path) => _document["paths"]![path]![method]!.AsObject();

    private JsonObject Parameter(string method, string path, string name) =>
        Operation(method, path)["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == name)!["schema"]!.AsObject();

    /// <summary>The values a schema lists, but null (listed where the field may be null).</summary>
    private static List<string> Enum(JsonObject schema) => schema["enum"]!.AsArray().OfType<JsonNode>().Select(v => v.GetValue<string>()).ToList();

    [Fact]
    public void HeraldsOwnTimes_AreDateTimes_APointIntentsSeedTimeAndRequestsTimesAreNot()
    {
        // Every *_at a response of Herald's own carries, and a stats window's since, until and hour.
        var times = _document["components"]!["schemas"]!.AsObject()
            .Where(s => s.Key.EndsWith("Response", StringComparison.Ordinal) && s.Key != "PaymentIntentResponse")
            .SelectMany(s => PropertyNames(s.Value!.AsObject()).Where(n => n.EndsWith("_at", StringComparison.Ordinal)).Select(n => (Schema: s.Key, Field: n)))
            .Concat([(Schema: "StatsResponse", Field: "since"), (Schema: "StatsResponse", Field: "until"), (Schema: "HourlyAttemptsResponse", Field: "hour")])
            .ToList();
        Assert.Contains(("NotificationResponse", "next_attempt_at"), times);
        Assert.Contains(("PaymentOrderResponse", "updated_at"), times);
        Assert.Contains(("RotatedSecretResponse", "previous_secrets_expire_at"), times);
        Assert.All(times, t => Assert.True(
            _document["components"]!["schemas"]![t.Schema]!["properties"]![t.Field]!["format"]?.GetValue<string>() == "date-time", $"{t.Schema}.{t.Field}"));

        // Seed 000's yyyy-MM-dd HH:mm:ss is no RFC 3339 time; a recover's since takes a bare date too.
        Assert.Null(Property(ResponseSchema("get", "/v1/payment_intents/{id}", "200"), "created_at")["format"]);
        Assert.Null(Property(RequestSchema("post", "/v1/endpoints/{id}/recover"), "since")["format"]);
    }

    [Fact]
    public async Task NotificationsEventTypeFilter_ListsOnlyTypesTheApiTakes()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var listed = Operation("get", "/v1/notifications")["parameters"]!.AsArray()
            .Single(p => p!["name"]!.GetValue<string>() == "event_type")!["schema"]!["enum"]!.AsArray()
            .Select(v => v!.GetValue<string>()).ToList();

        Assert.DoesNotContain("PAYMENT_INTENT.OPEN", listed);
        foreach (var type in listed)
        {
            var answer = await merchant.GetAsync("/v1/notifications?event_type=" + type);
            Assert.True(answer.IsSuccessStatusCode, $"{type}: {await answer.Content.ReadAsStringAsync()}");
        }
        await ApiErrors.ExpectErrorAsync(await merchant.GetAsync("/v1/notifications?event_type=PAYMENT_INTENT.OPEN"), 400, "never notified");
        // An endpoint's test takes the same types: one no format sends is refused there too.
        Assert.Equal(listed, Property(RequestSchema("post", "/v1/endpoints/{id}/test"), "event_type")["enum"]!.AsArray()
            .Where(v => v is not null).Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task ServerUrl_JoinedWithARoutesPath_ReachesTheRoute()
    {
        using var merchant = await _herald.NewMerchantAsync();
        var servers = _document["servers"]!.AsArray().Select(s => s!["url"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(servers);
        foreach (var server in servers)
        {
            // What a generated client does: the server's URL, then the path as the document writes
            // it, taken from where the document was read (the URL is relative).
            var joined = new Uri(new Uri(_herald.Client.BaseAddress!, "/openapi/v1.json"), server + "/v1/event_types");
            Assert.Equal(new Uri(_herald.Client.BaseAddress!, "/v1/event_types"), joined);
            var answer = await merchant.GetAsync(joined);
            Assert.True(answer.IsSuccessStatusCode, $"{joined}: {(int)answer.StatusCode}");
        }
    }

    [Fact]
    public async Task TheDocument_NeverNamesTheHostARequestGave()
    {
        // A document fetched with a forged Host (a cache in front, a page that embeds it) would send a
        // client that follows its servers entry, with its key, to the forger's host.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Host = "herald.attacker.example";
        using var response = await _herald.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("attacker", text, StringComparison.OrdinalIgnoreCase);
        var servers = JsonNode.Parse(text)!["servers"]!.AsArray().Select(s => s!["url"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(servers);
        Assert.All(servers, url => Assert.False(url.Contains("//", StringComparison.Ordinal) || url.EndsWith('/'), url));
    }

    [Fact]
    public void Webhooks_SayTheyNeedNoSchemesCredential_TheirSignatureHeadersDo()
    {
        foreach (var (format, item) in _document["webhooks"]!.AsObject())
        {
            var security = item!["post"]!["security"];
            Assert.True(security is JsonArray { Count: 0 }, $"{format}: {security?.ToJsonString() ?? "no security"}");
        }
    }

    [Fact]
    public async Task BodiesTheApiRefusesForTheirShape_TheDocumentRefusesToo()
    {
        var contract = await OpenApiContract.LoadAsync(_herald.Client);
        using var admin = _herald.As(HeraldHost.AdminKey);
        using var merchant = await _herald.NewMerchantAsync();
        var endpoint = (await merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "transaction")).Id;
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        var cases = new (HttpClient Client, string Path, string Template, string Body)[]
        {
            (admin, "/v1/merchants", "/v1/merchants", """{"name":"Acme","colour":"blue"}"""),
            (admin, "/v1/merchants", "/v1/merchants", """{"name":""}"""),
            (admin, "/v1/merchants", "/v1/merchants", """{"name":"   "}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"http://127.0.0.1:9/x","format":"thin","colour":"blue"}"""),
            (merchant, $"/v1/endpoints/{endpoint}/test", "/v1/endpoints/{id}/test", """{"event_type":"PAYMENT_INTENT.OPEN"}"""),
            (merchant, $"/v1/endpoints/{endpoint}/recover", "/v1/endpoints/{id}/recover", """{"since":"2026-01-01","until":"2026-02-01"}"""),
            (merchant, "/v1/checkout_preferences", "/v1/checkout_preferences", """{"items":[1]}"""),
            (merchant, "/v1/payment_intents", "/v1/payment_intents", """{"amount":100,"site":"mlb","client_id":1,"caller_id":2,"notification_url":"https://example.com/"}"""),
            (merchant, $"/v1/payment_orders/{order}/transitions", "/v1/payment_orders/{id}/transitions", """{"to":"CLOSED","data":{"colour":"blue"}}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"hello","format":"thin"}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"ftp://127.0.0.1:9/x","format":"thin"}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"http://127.0.0.1:9/x#top","format":"thin"}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", Json(new { url = "http://127.0.0.1:9/x", format = "thin", description = new string('d', 1025) })),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"http://127.0.0.1:9/x","format":"thin","headers":{"X-Note":"a\nb"}}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints", """{"url":"http://127.0.0.1:9/x","format":"thin","headers":{"X-Note":null}}"""),
            (merchant, "/v1/endpoints", "/v1/endpoints",
                Json(new { url = "http://127.0.0.1:9/x", format = "thin", headers = Enumerable.Range(0, 21).ToDictionary(i => $"X-H{i}", _ => "v") })),
            (merchant, "/v1/checkout_preferences", "/v1/checkout_preferences", """{"custom_urls":{"status_changes_webhook":"ftp://127.0.0.1:9/x"}}"""),
            (merchant, "/v1/payment_orders", "/v1/payment_orders", Json(new { amount = 10, currency = "BRL", description = new string('d', 1025) })),
            (merchant, "/v1/payment_intents", "/v1/payment_intents",
                Json(new { amount = 100, site = "mla", client_id = 1, caller_id = 2, additional_info = new { ticket_number = new string('7', 65) } })),
            (merchant, "/v1/transactions", "/v1/transactions",
                Json(new { currency = "BRL", paymentAmount = 10, customer = new { name = new string('n', 1025) } })),
        };
        static string Json(object body) => System.Text.Json.JsonSerializer.Serialize(body);
        foreach (var (client, path, template, body) in cases)
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            var answer = await client.PostAsync(path, content);
            Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, $"{path} {body}: {(int)answer.StatusCode}");
            var errors = contract.Validate(Operation("post", template)["requestBody"]!["content"]!["application/json"]!["schema"]!, JsonNode.Parse(body), closed: false);
            Assert.True(errors.Count > 0, $"the document takes {body} for {template}, which Herald refuses");
        }
    }

    [Theory]
    [InlineData("/v1/endpoints", "secret", "/v1/endpoints/{id}")]
    [InlineData("/v1/operator/endpoints", "secret", "/v1/operator/endpoints/{id}")]
    [InlineData("/v1/merchants", "api_key", "/v1/merchants/{id}")]
    [InlineData("/v1/api_keys", "api_key", "/v1/api_keys/{id}")]
    [InlineData("/v1/merchants/{id}/api_keys", "api_key", "/v1/merchants/{id}/api_keys/{keyId}")]
    public void ACreateShowingAKeyOrSecretOnce_RequiresItInIts201_AReadLeavesItOut(string create, string field, string read)
    {
        // A generated client then types it string, not an optional string or null to be checked.
        var made = ResponseSchema("post", create, "201");
        Assert.Contains(field, Required(made));
        Assert.Equal(["string"], Types(Property(made, field)));
        var readBack = ResponseSchema("get", read, "200");
        Assert.DoesNotContain(field, readBack["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? []);
    }

    [Fact]
    public void ANotificationRead_RequiresItsPayloadAndAttempts_TheListLeavesThemOut()
    {
        var read = ResponseSchema("get", "/v1/notifications/{id}", "200");
        Assert.Contains("payload", Required(read));
        Assert.Contains("attempts", Required(read));
        Assert.Equal(["array"], Types(Property(read, "attempts")));
        // Its items keep their type: a generated client reads a list of attempts, not of objects.
        Assert.Contains("status_code", PropertyNames(Resolve(Property(read, "attempts")["items"]!)));
        var listed = Resolve(Property(ResponseSchema("get", "/v1/notifications", "200"), "data")["items"]!);
        Assert.DoesNotContain("payload", listed["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? []);
    }

    [Fact]
    public void EveryCreate_RequiresItsLocationHeader()
    {
        var creates = _document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Where: $"{op.Key} {path.Key}", Created: op.Value!["responses"]!["201"])))
            .Where(op => op.Created is not null).ToList();
        Assert.Equal(10, creates.Count);
        Assert.All(creates, op => Assert.True(op.Created!["headers"]?["Location"]?["required"]?.GetValue<bool>() == true, op.Where));
    }

    [Theory]
    [InlineData("EndpointResponse", "format", "transaction point thin operator")]
    [InlineData("EndpointResponse", "success", "2xx 200")]
    [InlineData("EndpointResponse", "retry", "exponential hourly")]
    [InlineData("EndpointResponse", "source", "api checkout_preference operator")]
    [InlineData("ApiKeyResponse", "scope", "full read")]
    [InlineData("AttemptResponse", "trigger", "schedule manual")]
    [InlineData("EventResponse", "entity_kind", "payment_intent payment_order transaction")]
    [InlineData("NotificationResponse", "entity_kind", "payment_intent payment_order transaction")]
    [InlineData("PaymentIntentResponse", "site", "mla mlb mlm")]
    [InlineData("PaymentIntentResponse", "state", "OPEN FINISHED CANCELED ERROR")]
    [InlineData("PaymentOrderResponse", "status", "OPENED EXPIRED CLOSED REJECTED REFUNDED")]
    public void AnswerFields_OfAFixedSetOfValues_ListThem(string schema, string field, string values)
    {
        // A generated client then has a union to switch on rather than any string; the conformance
        // tests hold real answers to these lists.
        var listed = (_document["components"]!["schemas"]![schema]!["properties"]![field]!["enum"]?.AsArray() ?? [])
            .Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal);
        Assert.Equal(values.Split(' ').Order(StringComparer.Ordinal), listed);
    }

    [Theory]
    [InlineData("post", "/v1/transactions", "201")]
    [InlineData("get", "/v1/transactions/{id}", "200")]
    [InlineData("post", "/v1/transactions/{id}/transitions", "200")]
    public void ATransactionAnswer_HasEveryField_ItsIdAndStatusNeverNull(string method, string path, string status)
    {
        var answer = ResponseSchema(method, path, status);
        Assert.Equal(PropertyNames(answer).Order(StringComparer.Ordinal), Required(answer).Distinct());
        Assert.Equal(["string"], Types(Property(answer, "internalId")));
        Assert.Equal(["string"], Types(Property(answer, "status")));
        // What a create takes is unchanged: the two fields it needs, Herald's own read-only.
        var create = RequestSchema("post", "/v1/transactions");
        Assert.Equal(["currency", "paymentAmount"], Required(create));
        Assert.True(Property(create, "internalId")["readOnly"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ATransactionsTransitionData_IsTheFieldsItChanges_AsHeraldTakesThem()
    {
        var contract = await OpenApiContract.LoadAsync(_herald.Client);
        var body = RequestSchema("post", "/v1/transactions/{id}/transitions");
        var data = Resolve(Property(body, "data"));
        var transaction = RequestSchema("post", "/v1/transactions");
        Assert.Equal(PropertyNames(transaction).Where(n => n is not ("internalId" or "status")), PropertyNames(data));
        Assert.Null(data["required"]);
        Assert.False(data["additionalProperties"]!.GetValue<bool>());

        using var merchant = await _herald.NewMerchantAsync();
        var id = await merchant.NewTransactionAsync();
        var schema = Operation("post", "/v1/transactions/{id}/transitions")["requestBody"]!["content"]!["application/json"]!["schema"]!;
        foreach (var (move, taken) in new (string, bool)[]
        {
            ("""{"to":"PROCESSING","data":{"paymentReference":"pay-7","customer":{"name":"Jane Roe"}}}""", true),
            ("""{"to":"PROCESSING","data":{"internalId":"00000000-0000-7000-8000-000000000000"}}""", false),
            ("""{"to":"PROCESSING","data":{"colour":"blue"}}""", false),
        })
        {
            using var content = new StringContent(move, System.Text.Encoding.UTF8, "application/json");
            var answer = await merchant.PostAsync($"/v1/transactions/{id}/transitions", content);
            Assert.True(answer.IsSuccessStatusCode == taken, $"{move}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
            Assert.True(contract.Validate(schema, JsonNode.Parse(move), closed: false).Count == 0 == taken, $"the document and Herald differ on {move}");
        }
    }

    private static List<string> Required(JsonObject schema) =>
        schema["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal).ToList();

    private static (string, string) Range(JsonObject schema) => (schema["minimum"]!.ToJsonString(), schema["maximum"]!.ToJsonString());

    private JsonObject RequestSchema(string method, string path) =>
        Resolve(Operation(method, path)["requestBody"]!["content"]!["application/json"]!["schema"]!);

    private JsonObject ResponseSchema(string method, string path, string status) =>
        Resolve(Operation(method, path)["responses"]![status]!["content"]!["application/json"]!["schema"]!);

    /// <summary>A schema, its <c>$ref</c> followed, the non-null branch of a nullable one, the parts of an <c>allOf</c> in one.</summary>
    private JsonObject Resolve(JsonNode schema)
    {
        if (schema["allOf"] is JsonArray parts)
        {
            var whole = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["required"] = new JsonArray() };
            foreach (var part in parts.Select(p => Resolve(p!)))
            {
                foreach (var (name, field) in part["properties"]?.AsObject() ?? [])
                {
                    whole["properties"]![name] = field!.DeepClone();
                }
                foreach (var name in part["required"]?.AsArray() ?? [])
                {
                    whole["required"]!.AsArray().Add(name!.DeepClone());
                }
            }
            return whole;
        }
        if (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            return Resolve(_document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!);
        }
        if (schema["oneOf"] is JsonArray choices)
        {
            return Resolve(choices.Single(c => c!["type"]?.GetValue<string>() != "null")!);
        }
        return schema.AsObject();
    }

    private static JsonObject Property(JsonObject schema, string name) => schema["properties"]![name]!.AsObject();

    private static List<string> PropertyNames(JsonObject schema) => schema["properties"]!.AsObject().Select(p => p.Key).ToList();

    private static HashSet<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToHashSet(StringComparer.Ordinal),
        JsonValue one => [one.GetValue<string>()],
        _ => [],
    };

    /// <summary>Every schema object of the document, however deep: components, bodies, parameters.</summary>
    private static IEnumerable<JsonObject> Schemas(JsonNode? node, bool isSchema = false)
    {
        if (node is JsonArray array)
        {
            return array.SelectMany(item => Schemas(item, isSchema));
        }
        if (node is not JsonObject obj)
        {
            return [];
        }
        var nested = obj.SelectMany(p => (isSchema && p.Key == "properties") || (!isSchema && p.Key == "schemas")
            ? p.Value!.AsObject().SelectMany(named => Schemas(named.Value, isSchema: true))
            : Schemas(p.Value, isSchema ? p.Key is "items" or "additionalProperties" or "oneOf" or "anyOf" or "allOf" or "not" : p.Key == "schema"));
        return isSchema ? nested.Prepend(obj) : nested;
    }
}
