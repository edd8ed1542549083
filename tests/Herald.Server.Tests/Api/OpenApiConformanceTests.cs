using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// Real answers of the API, successes and refusals, hold to the OpenAPI document's own schemas for
/// their route and status (<see cref="OpenApiContract"/>): what a client generated from the
/// document expects is what it gets.
/// </summary>
public sealed class OpenApiConformanceTests : HeraldWithReceiver
{
    private OpenApiContract _contract = null!;

    private async Task<JsonNode?> CallAsync(HttpClient client, HttpMethod method, string path, string template, object? body = null, int? expected = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = body is HttpContent content ? content : JsonContent.Create(body);
        }
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var response = await client.SendAsync(request);
        if (expected is { } status)
        {
            Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return await _contract.AssertAnswersAsDocumentedAsync(response, method.Method, template);
    }

    private async Task<JsonNode> CreatedAsync(HttpClient client, string path, object? body = null, string? idempotencyKey = null, string? template = null) =>
        (await CallAsync(client, HttpMethod.Post, path, template ?? path, body ?? new { }, 201, idempotencyKey))!;

    [Fact]
    public async Task Contract_RefusesAnAnswerTheDocumentDoesNotDescribe()
    {
        _contract = await OpenApiContract.LoadAsync(Herald.Client);
        using var merchant = await Herald.NewMerchantAsync();
        var answer = await CreatedAsync(merchant, "/v1/endpoints", new { url = Receiver.Url, format = "thin" });
        var schema = new JsonObject { ["$ref"] = "#/components/schemas/EndpointResponse" };
        Assert.Empty(_contract.Validate(schema, answer));

        var missing = answer.DeepClone().AsObject();
        missing.Remove("enabled");
        var unknown = answer.DeepClone().AsObject();
        unknown["colour"] = "blue";
        var mistyped = answer.DeepClone().AsObject();
        mistyped["timeout_seconds"] = 1.5;
        var notATime = answer.DeepClone().AsObject();
        notATime["created_at"] = "yesterday";

        Assert.Contains(_contract.Validate(schema, missing), e => e.Contains("enabled", StringComparison.Ordinal));
        Assert.Contains(_contract.Validate(schema, unknown), e => e.Contains("colour", StringComparison.Ordinal));
        Assert.Contains(_contract.Validate(schema, mistyped), e => e.Contains("/timeout_seconds", StringComparison.Ordinal));
        Assert.Contains(_contract.Validate(schema, notATime), e => e.Contains("/created_at", StringComparison.Ordinal));
    }

    /// <summary>
    /// Every operation the document lists is called by the walk below, so that one added to the API
    /// later is held to its schemas too, not left out of them unnoticed.
    /// </summary>
    [Fact]
    public async Task TheWalk_CallsEveryOperationOfTheDocument()
    {
        _contract = await OpenApiContract.LoadAsync(Herald.Client);
        await WalkAdminRoutesAsync();
        await WalkEndpointAndKeyRoutesAsync();
        await WalkEntityEventAndNotificationRoutesAsync();

        var missed = _contract.Operations.Except(_contract.Called, StringComparer.Ordinal).ToList();
        Assert.True(missed.Count == 0, "operations of the document the conformance walk never calls: " + string.Join(", ", missed));
    }

    [Fact]
    public async Task AdminRoutes_AnswerAsTheDocumentSays()
    {
        _contract = await OpenApiContract.LoadAsync(Herald.Client);
        await WalkAdminRoutesAsync();
    }

    private async Task WalkAdminRoutesAsync()
    {
        using var admin = Herald.As(HeraldHost.AdminKey);
        var merchant = await CreatedAsync(admin, "/v1/merchants", new { name = "Conformance" });
        var id = merchant.Str("id");
        using var merchantClient = Herald.As(merchant.Str("api_key"));

        await CallAsync(admin, HttpMethod.Get, "/v1/merchants?limit=2", "/v1/merchants", expected: 200);
        await CallAsync(admin, HttpMethod.Get, $"/v1/merchants/{id}", "/v1/merchants/{id}", expected: 200);
        await CallAsync(admin, HttpMethod.Patch, $"/v1/merchants/{id}", "/v1/merchants/{id}", new { name = "Conformance S.A." }, 200);
        await CallAsync(admin, HttpMethod.Patch, $"/v1/merchants/{id}", "/v1/merchants/{id}", new { name = new string('x', 201) }, 400);
        await CallAsync(admin, HttpMethod.Get, "/v1/merchants/mer_none", "/v1/merchants/{id}", expected: 404);
        await CallAsync(merchantClient, HttpMethod.Get, "/v1/merchants", "/v1/merchants", expected: 403);
        await CallAsync(Herald.Client, HttpMethod.Get, "/v1/merchants", "/v1/merchants", expected: 401);

        var key = await CreatedAsync(admin, $"/v1/merchants/{id}/api_keys", new { scope = "read" }, template: "/v1/merchants/{id}/api_keys");
        await CallAsync(admin, HttpMethod.Get, $"/v1/merchants/{id}/api_keys", "/v1/merchants/{id}/api_keys", expected: 200);
        var keyPath = $"/v1/merchants/{id}/api_keys/{key.Str("id")}";
        await CallAsync(admin, HttpMethod.Get, keyPath, "/v1/merchants/{id}/api_keys/{keyId}", expected: 200);
        await CallAsync(admin, HttpMethod.Delete, keyPath, "/v1/merchants/{id}/api_keys/{keyId}", expected: 204);
        await CallAsync(admin, HttpMethod.Delete, keyPath, "/v1/merchants/{id}/api_keys/{keyId}", expected: 409);
        await CreatedAsync(admin, $"/v1/merchants/{id}/portal_links", new { expires_in_seconds = 60 }, template: "/v1/merchants/{id}/portal_links");
        await CallAsync(admin, HttpMethod.Delete, $"/v1/merchants/{id}/portal_sessions", "/v1/merchants/{id}/portal_sessions", expected: 204);
        await CallAsync(admin, HttpMethod.Delete, "/v1/merchants/mer_none/portal_sessions", "/v1/merchants/{id}/portal_sessions", expected: 404);
        await CallAsync(admin, HttpMethod.Delete, $"/v1/merchants/{id}/data", "/v1/merchants/{id}/data", expected: 204);

        var webhook = await CreatedAsync(admin, "/v1/operator/endpoints", new { url = Receiver.Url, description = "operations" });
        var webhookPath = "/v1/operator/endpoints/" + webhook.Str("id");
        await CallAsync(admin, HttpMethod.Get, "/v1/operator/endpoints", "/v1/operator/endpoints", expected: 200);
        await CallAsync(admin, HttpMethod.Get, webhookPath, "/v1/operator/endpoints/{id}", expected: 200);
        await CallAsync(admin, HttpMethod.Patch, webhookPath, "/v1/operator/endpoints/{id}",
            new { description = "operations on call", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer k", ["X-Team"] = "ops" } }, 200);
        await CallAsync(admin, HttpMethod.Patch, webhookPath, "/v1/operator/endpoints/{id}", new { format = "thin" }, 400);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/rotate_secret", "/v1/operator/endpoints/{id}/rotate_secret", expected: 200);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/rotate_secret", "/v1/operator/endpoints/{id}/rotate_secret", new { grace_seconds = 0 }, 200);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/rotate_secret", "/v1/operator/endpoints/{id}/rotate_secret", new { grace_seconds = -1 }, 400);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/pause", "/v1/operator/endpoints/{id}/pause", expected: 200);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/resume", "/v1/operator/endpoints/{id}/resume", expected: 200);
        await CallAsync(admin, HttpMethod.Post, webhookPath + "/test", "/v1/operator/endpoints/{id}/test", expected: 200);
        await CallAsync(admin, HttpMethod.Delete, webhookPath, "/v1/operator/endpoints/{id}", expected: 204);
        await CallAsync(admin, HttpMethod.Delete, webhookPath, "/v1/operator/endpoints/{id}", expected: 404);
    }

    [Fact]
    public async Task EndpointAndKeyRoutes_AnswerAsTheDocumentSays()
    {
        _contract = await OpenApiContract.LoadAsync(Herald.Client);
        await WalkEndpointAndKeyRoutesAsync();
    }

    private async Task WalkEndpointAndKeyRoutesAsync()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var endpoint = await CreatedAsync(merchant, "/v1/endpoints", new
        {
            url = Receiver.Url, format = "transaction", description = "orders", event_types = new[] { "TRANSACTION.COMPLETED" },
            max_concurrency = 2, rate_limit = 5, ordered = true, headers = new Dictionary<string, string> { ["X-Api-Key"] = "k", ["X-Shop"] = "north" },
        });
        var path = "/v1/endpoints/" + endpoint.Str("id");
        await CallAsync(merchant, HttpMethod.Get, "/v1/endpoints?limit=1", "/v1/endpoints", expected: 200);
        await CallAsync(merchant, HttpMethod.Get, path, "/v1/endpoints/{id}", expected: 200);
        await CallAsync(merchant, HttpMethod.Patch, path, "/v1/endpoints/{id}", new { event_types = Array.Empty<string>(), max_concurrency = 0 }, 200);
        await CallAsync(merchant, HttpMethod.Patch, path, "/v1/endpoints/{id}", new { format = "thin" }, 400);
        await CallAsync(merchant, HttpMethod.Post, path + "/rotate_secret", "/v1/endpoints/{id}/rotate_secret", expected: 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/rotate_secret", "/v1/endpoints/{id}/rotate_secret", new { grace_seconds = 60 }, 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/pause", "/v1/endpoints/{id}/pause", expected: 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/resume", "/v1/endpoints/{id}/resume", expected: 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/test", "/v1/endpoints/{id}/test", expected: 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/test", "/v1/endpoints/{id}/test", new { event_type = "TRANSACTION.COMPLETED" }, 200);
        await CallAsync(merchant, HttpMethod.Post, path + "/recover", "/v1/endpoints/{id}/recover", new { since = "2026-01-01" }, 202);
        await CallAsync(merchant, HttpMethod.Post, path + "/recover", "/v1/endpoints/{id}/recover", new { }, 400);
        await CallAsync(merchant, HttpMethod.Post, "/v1/endpoints", "/v1/endpoints", new { url = Receiver.Url, format = "fat" }, 400);
        await CallAsync(merchant, HttpMethod.Post, "/v1/endpoints", "/v1/endpoints", new StringContent("url=x", Encoding.UTF8, "application/x-www-form-urlencoded"), 415);
        await CallAsync(merchant, HttpMethod.Post, "/v1/endpoints", "/v1/endpoints",
            new StringContent($$"""{"url":"{{new string('a', 300_000)}}"}""", Encoding.UTF8, "application/json"), 413);
        await CallAsync(merchant, HttpMethod.Delete, path, "/v1/endpoints/{id}", expected: 204);
        await CallAsync(merchant, HttpMethod.Get, path, "/v1/endpoints/{id}", expected: 404);

        var key = await CreatedAsync(merchant, "/v1/api_keys", new { scope = "read" });
        using var reader = Herald.As(key.Str("api_key"));
        await CallAsync(reader, HttpMethod.Post, "/v1/endpoints", "/v1/endpoints", new { url = Receiver.Url, format = "thin" }, 403);
        await CallAsync(merchant, HttpMethod.Get, "/v1/api_keys", "/v1/api_keys", expected: 200);
        await CallAsync(merchant, HttpMethod.Get, "/v1/api_keys/" + key.Str("id"), "/v1/api_keys/{id}", expected: 200);
        await CallAsync(merchant, HttpMethod.Delete, "/v1/api_keys/" + key.Str("id"), "/v1/api_keys/{id}", expected: 204);
        await CallAsync(merchant, HttpMethod.Delete, "/v1/api_keys/" + key.Str("id"), "/v1/api_keys/{id}", expected: 409);
    }

    [Fact]
    public async Task EntityEventAndNotificationRoutes_AnswerAsTheDocumentSays()
    {
        _contract = await OpenApiContract.LoadAsync(Herald.Client);
        await WalkEntityEventAndNotificationRoutesAsync();
    }

    private async Task WalkEntityEventAndNotificationRoutesAsync()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await CreatedAsync(merchant, "/v1/endpoints", new { url = Receiver.Url, format = "transaction" });
        await CreatedAsync(merchant, "/v1/endpoints", new { url = Receiver.Url, format = "point" });

        var preference = await CreatedAsync(merchant, "/v1/checkout_preferences", new
        {
            custom_urls = new { status_changes_webhook = Receiver.Url }, external_reference = "cart-7", items = new[] { new { title = "mug", quantity = 1 } },
        });
        await CreatedAsync(merchant, "/v1/checkout_preferences", new { });
        await CallAsync(merchant, HttpMethod.Get, "/v1/checkout_preferences", "/v1/checkout_preferences", expected: 200);
        await CallAsync(merchant, HttpMethod.Get, "/v1/checkout_preferences/" + preference.Str("id"), "/v1/checkout_preferences/{id}", expected: 200);

        var order = await CreatedAsync(merchant, "/v1/payment_orders", new { preference_id = preference.Str("id"), amount = 50.25m, currency = "ARS" }, "order-1");
        await CallAsync(merchant, HttpMethod.Post, "/v1/payment_orders", "/v1/payment_orders", new { amount = 51, currency = "ARS" }, 422, "order-1");
        await CallAsync(merchant, HttpMethod.Get, "/v1/payment_orders/" + order.Str("id"), "/v1/payment_orders/{id}", expected: 200);
        var orderTransitions = $"/v1/payment_orders/{order.Str("id")}/transitions";
        await CallAsync(merchant, HttpMethod.Post, orderTransitions, "/v1/payment_orders/{id}/transitions", new { to = "CLOSED" }, 200);
        await CallAsync(merchant, HttpMethod.Post, orderTransitions, "/v1/payment_orders/{id}/transitions", new { to = "EXPIRED" }, 409);

        foreach (var (site, to) in new[] { ("mla", "FINISHED"), ("mlb", "CANCELED") })
        {
            var intent = await CreatedAsync(merchant, "/v1/payment_intents", new
            {
                amount = 100, site, client_id = 1234567890, caller_id = 9876543,
                additional_info = site == "mla" ? new JsonObject { ["external_reference"] = "info", ["ticket_number"] = "39SHDKKDJ" } : new JsonObject { ["external_reference"] = "info" },
            });
            var intentPath = "/v1/payment_intents/" + intent.Str("id");
            var data = to == "FINISHED" ? new { payment = new { id = 123456789, state = "approved", type = "credit_card" } } : null;
            await CallAsync(merchant, HttpMethod.Post, intentPath + "/transitions", "/v1/payment_intents/{id}/transitions", new { to, data }, 200);
            await CallAsync(merchant, HttpMethod.Get, intentPath, "/v1/payment_intents/{id}", expected: 200);
        }

        // The least a transaction takes: every other field is answered, null.
        var least = await CreatedAsync(merchant, "/v1/transactions", new { paymentAmount = 10, currency = "BRL" });
        await CallAsync(merchant, HttpMethod.Get, "/v1/transactions/" + least.Str("internalId"), "/v1/transactions/{id}", expected: 200);
        var transaction = await CreatedAsync(merchant, "/v1/transactions", Merchant.SeedTransaction(), "tx-1");
        var id = transaction.Str("internalId");
        await CallAsync(merchant, HttpMethod.Get, "/v1/transactions/" + id, "/v1/transactions/{id}", expected: 200);
        await CallAsync(merchant, HttpMethod.Post, $"/v1/transactions/{id}/transitions", "/v1/transactions/{id}/transitions", new { to = "COMPLETED" }, 200);
        await CallAsync(merchant, HttpMethod.Post, $"/v1/transactions/{id}/transitions", "/v1/transactions/{id}/transitions", new { to = "PROCESSING" }, 409);
        await CallAsync(merchant, HttpMethod.Get, "/v1/transactions/" + Guid.CreateVersion7(), "/v1/transactions/{id}", expected: 404);

        var events = await CallAsync(merchant, HttpMethod.Get, "/v1/events?entity_id=" + id, "/v1/events", expected: 200);
        await CallAsync(merchant, HttpMethod.Get, "/v1/events/" + events!["data"]![0].Str("id"), "/v1/events/{id}", expected: 200);
        await CallAsync(merchant, HttpMethod.Get, "/v1/event_types", "/v1/event_types", expected: 200);
        foreach (var type in new[] { "TRANSACTION.COMPLETED", "PAYMENT_INTENT.FINISHED", "PAYMENT_ORDER.CLOSED" })
        {
            await CallAsync(merchant, HttpMethod.Get, "/v1/event_types/" + type, "/v1/event_types/{type}", expected: 200);
        }
        await CallAsync(merchant, HttpMethod.Get, "/v1/event_types/PAYMENT_INTENT.OPEN", "/v1/event_types/{type}", expected: 404);

        await HeraldHost.EventuallyAsync(async () =>
            (await merchant.NotificationsAsync("status=succeeded")).Count >= 4);
        var page = await CallAsync(merchant, HttpMethod.Get, "/v1/notifications?limit=100", "/v1/notifications", expected: 200);
        foreach (var notification in page!["data"]!.AsArray())
        {
            await CallAsync(merchant, HttpMethod.Get, "/v1/notifications/" + notification.Str("id"), "/v1/notifications/{id}", expected: 200);
        }
        var first = page["data"]![0].Str("id");
        await CallAsync(merchant, HttpMethod.Post, $"/v1/notifications/{first}/resend", "/v1/notifications/{id}/resend", expected: 202);
        await CallAsync(merchant, HttpMethod.Get, "/v1/notifications?status=bogus", "/v1/notifications", expected: 400);
        await CallAsync(merchant, HttpMethod.Get, "/v1/stats", "/v1/stats", expected: 200);
        await CallAsync(Herald.Client, HttpMethod.Get, "/healthz", "/healthz", expected: 200);
        await CallAsync(Herald.Client, HttpMethod.Get, "/readyz", "/readyz");
    }
}
