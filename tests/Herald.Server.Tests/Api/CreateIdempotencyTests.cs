using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// A create retried with its <c>Idempotency-Key</c> (after a timeout, say) makes one entity and one
/// notification, and is answered as the first call was, as a retried transition is. An endpoint's or
/// a checkout preference's makes one too, answered with its signing secret: the caller whose first
/// answer was lost never saw it.
/// </summary>
public sealed class CreateIdempotencyTests : HeraldWithMerchant
{
    private const string EndpointJson = """{"url":"https://merchant.example/hooks","format":"transaction","description":"orders"}""";
    private const string PreferenceJson = """{"custom_urls":{"status_changes_webhook":"https://merchant.example/orders"},"external_reference":"cart-1"}""";

    /// <summary>A body of each kind's create, as a platform sends it.</summary>
    public static TheoryData<string, string> Creates() => new()
    {
        { "transactions", """{"paymentAmount":130,"currency":"BRL","country":"BR","merchantReference":"orde123"}""" },
        { "payment_orders", """{"amount":10.5,"currency":"BRL","description":"two shirts"}""" },
        { "payment_intents", """{"amount":100,"site":"mlb","client_id":1234567890,"caller_id":9876543,"additional_info":{"external_reference":"information"}}""" },
    };

    private static Task<HttpResponseMessage> CreateAsync(HttpClient merchant, string collection, string json, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/{collection}") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return merchant.SendAsync(request);
    }

    private static Task<HttpResponseMessage> MoveAsync(HttpClient merchant, string path, string json, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        return merchant.SendAsync(request);
    }

    private static async Task<(HttpStatusCode Status, string Body, Uri? Location)> AnswerAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location);
    }

    private static async Task<int> CountAsync(HttpClient client, string collection) =>
        (await client.GetJsonAsync($"/v1/{collection}?limit=100"))["data"]!.AsArray().Count;

    private static Task<int> EventCountAsync(HttpClient merchant) => CountAsync(merchant, "events");

    private static async Task ExpectRefusedAsync(Task<HttpResponseMessage> call, int status, string contains)
    {
        using var response = await call;
        await ApiErrors.ExpectErrorAsync(response, status, contains);
    }

    [Theory]
    [MemberData(nameof(Creates))]
    public async Task ACreateRetriedWithItsKey_IsAnsweredAsTheFirstWas_AndMakesOneEntityAndOneNotification(string collection, string json)
    {
        await MerchantClient.AddEndpointAsync("https://merchant.example/hooks", collection switch
        {
            "transactions" => "transaction",
            "payment_orders" => "thin",
            _ => "point",
        });
        var first = await AnswerAsync(CreateAsync(MerchantClient, collection, json, "create-1"));
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Herald.Clock.Advance(TimeSpan.FromSeconds(30));

        var retry = await AnswerAsync(CreateAsync(MerchantClient, collection, json, "create-1"));
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(first.Location, retry.Location);
        Assert.Equal(1, await EventCountAsync(MerchantClient));
        // A point intent's OPEN is not notified: only the other kinds' creations are.
        var notified = collection == "payment_intents" ? 0 : 1;
        Assert.Equal(notified, (await MerchantClient.NotificationsAsync("limit=100")).Count);

        // The same fields written in another order, and a field Herald leaves out given as null, are the same request.
        var reordered = JsonNode.Parse(json)!.AsObject().Reverse().ToDictionary(p => p.Key, p => p.Value?.DeepClone());
        var again = new JsonObject(reordered!);
        if (collection != "payment_intents")
        {
            again[collection == "transactions" ? "extra1" : "external_reference"] = null;
        }
        var sameInOtherWords = await AnswerAsync(CreateAsync(MerchantClient, collection, again.ToJsonString(), "create-1"));
        Assert.Equal(HttpStatusCode.Created, sameInOtherWords.Status);
        Assert.Equal(first.Body, sameInOtherWords.Body);

        // Without a key, the same body is a new entity.
        Assert.Equal(HttpStatusCode.Created, (await AnswerAsync(CreateAsync(MerchantClient, collection, json))).Status);
        Assert.Equal(2, await EventCountAsync(MerchantClient));
    }

    [Theory]
    [MemberData(nameof(Creates))]
    public async Task ACreatesKey_GivenWithAnotherBody_Is422_AndMakesNothing(string collection, string json)
    {
        Assert.Equal(HttpStatusCode.Created, (await AnswerAsync(CreateAsync(MerchantClient, collection, json, "create-1"))).Status);
        var other = JsonNode.Parse(json)!.AsObject();
        other[collection == "transactions" ? "paymentAmount" : "amount"] = 200;
        await ExpectRefusedAsync(CreateAsync(MerchantClient, collection, other.ToJsonString(), "create-1"), 422, "this Idempotency-Key was already used with a different request");
        Assert.Equal(1, await EventCountAsync(MerchantClient));
        // Sent empty (a variable left unset): refused, not taken for no key, which would record twice.
        await ExpectRefusedAsync(CreateAsync(MerchantClient, collection, json, ""), 400, "Idempotency-Key is empty: give a key, or leave the header out");
        Assert.Equal(1, await EventCountAsync(MerchantClient));
    }

    [Fact]
    public async Task AKey_IsTheMerchants_OneRequestWhateverTheRoute()
    {
        var (_, transaction, _) = await AnswerAsync(CreateAsync(MerchantClient, "transactions", """{"paymentAmount":10,"currency":"BRL"}""", "shared"));
        var id = JsonNode.Parse(transaction)!.Str("internalId");
        // The key of a transaction's creation is not an order's, nor a transition's.
        await ExpectRefusedAsync(CreateAsync(MerchantClient, "payment_orders", """{"amount":10,"currency":"BRL"}""", "shared"), 422, "Idempotency-Key");
        await ExpectRefusedAsync(MoveAsync(MerchantClient, $"/v1/transactions/{id}/transitions", """{"to":"PROCESSING"}""", "shared"), 422, "Idempotency-Key");
        // Nor is a transition's key a creation's.
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(MoveAsync(MerchantClient, $"/v1/transactions/{id}/transitions", """{"to":"PROCESSING"}""", "moved"))).Status);
        await ExpectRefusedAsync(CreateAsync(MerchantClient, "transactions", """{"paymentAmount":10,"currency":"BRL"}""", "moved"), 422, "Idempotency-Key");
        Assert.Equal(2, await EventCountAsync(MerchantClient));
        Assert.Equal("PROCESSING", (await MerchantClient.GetJsonAsync($"/v1/transactions/{id}")).Str("status"));

        // Another merchant's key of the same name is that merchant's own.
        using var other = await Herald.NewMerchantAsync("Other");
        var (status, body, _) = await AnswerAsync(CreateAsync(other, "transactions", """{"paymentAmount":10,"currency":"BRL"}""", "shared"));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.NotEqual(id, JsonNode.Parse(body)!.Str("internalId"));
        Assert.Equal(1, await EventCountAsync(other));
    }

    [Fact]
    public async Task ACreatesKey_TooLong_Is400_AndMakesNothing()
    {
        const string json = """{"paymentAmount":10,"currency":"BRL"}""";
        await ExpectRefusedAsync(CreateAsync(MerchantClient, "transactions", json, new string('k', 256)), 400, "Idempotency-Key is longer than 255 characters");
        Assert.Equal(0, await EventCountAsync(MerchantClient));
    }

    [Fact]
    public async Task ACreateRetriedAfterTheMerchantWasRenamed_IsStillTheSameRequest()
    {
        const string json = """{"paymentAmount":10,"currency":"BRL"}""";
        var first = await AnswerAsync(CreateAsync(MerchantClient, "transactions", json, "renamed"));
        using var admin = Herald.As(HeraldHost.AdminKey);
        var merchantId = (await admin.GetJsonAsync("/v1/merchants?limit=1"))["data"]![0]!.Str("id");
        Assert.True((await admin.PatchAsync($"/v1/merchants/{merchantId}", new StringContent("""{"name":"Acme S.A."}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode);

        var retry = await AnswerAsync(CreateAsync(MerchantClient, "transactions", json, "renamed"));
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(1, await EventCountAsync(MerchantClient));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetriesOfOneCreateAtOnce_MakeOne(bool onTwoPostgresNodes)
    {
        await using var db = onTwoPostgresNodes ? await PostgresDatabase.CreateAsync() : null;
        await using var one = await HeraldHost.StartAsync(postgres: db?.ConnectionString);
        await using var two = onTwoPostgresNodes ? await HeraldHost.StartAsync(postgres: db!.ConnectionString) : null;
        using var merchant = await one.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        using var elsewhere = (two ?? one).As(key);
        await merchant.AddEndpointAsync("https://merchant.example/hooks", "transaction");

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            AnswerAsync(CreateAsync(i % 2 == 0 ? merchant : elsewhere, "transactions", """{"paymentAmount":130,"currency":"BRL"}""", "at-once"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Equal(1, await EventCountAsync(merchant));
        Assert.Single(await merchant.NotificationsAsync("limit=100"));

        // An endpoint's and a checkout preference's creates too.
        var made = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            AnswerAsync(CreateAsync(i % 2 == 0 ? merchant : elsewhere, i % 4 < 2 ? "endpoints" : "checkout_preferences", i % 4 < 2 ? EndpointJson : PreferenceJson,
                i % 4 < 2 ? "endpoint-at-once" : "preference-at-once"))));
        Assert.All(made, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Equal(2, made.Select(a => a.Body).Distinct().Count());
        Assert.Equal(1, await CountAsync(merchant, "checkout_preferences"));
        // The one added above, the one made here, and the preference's webhook.
        Assert.Equal(3, await CountAsync(merchant, "endpoints"));
    }

    [Theory]
    [InlineData("endpoints", EndpointJson)]
    [InlineData("checkout_preferences", PreferenceJson)]
    public async Task ACreateRetriedWithItsKey_IsAnsweredAsTheFirstWas_SecretIncluded_AndMakesOne(string collection, string json)
    {
        var first = await AnswerAsync(CreateAsync(MerchantClient, collection, json, "make-1"));
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.StartsWith("whsec_", JsonNode.Parse(first.Body)!.Str("secret"));
        Herald.Clock.Advance(TimeSpan.FromSeconds(30));

        var retry = await AnswerAsync(CreateAsync(MerchantClient, collection, json, "make-1"));
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(first.Location, retry.Location);
        // The same fields in another order are the same request.
        var reordered = new JsonObject(JsonNode.Parse(json)!.AsObject().Reverse().ToDictionary(p => p.Key, p => p.Value?.DeepClone())!);
        Assert.Equal(first.Body, (await AnswerAsync(CreateAsync(MerchantClient, collection, reordered.ToJsonString(), "make-1"))).Body);

        Assert.Equal(1, await CountAsync(MerchantClient, collection));
        // A preference's webhook is an endpoint of its own: one of those too.
        Assert.Equal(1, await CountAsync(MerchantClient, "endpoints"));
        // Without a key, each call makes one: a preference at the same URL shares the first one's webhook endpoint.
        Assert.Equal(HttpStatusCode.Created, (await AnswerAsync(CreateAsync(MerchantClient, collection, json, null))).Status);
        Assert.Equal(2, await CountAsync(MerchantClient, collection));
        Assert.Equal(collection == "endpoints" ? 2 : 1, await CountAsync(MerchantClient, "endpoints"));
    }

    [Fact]
    public async Task APreferencesCreate_AtTheUrlOfAnEarlierOnesWebhook_RetriedWithItsKey_IsAnsweredTheSharedEndpointAndSecret_AndMakesOne()
    {
        var earlier = JsonNode.Parse((await AnswerAsync(CreateAsync(MerchantClient, "checkout_preferences",
            """{"custom_urls":{"status_changes_webhook":"https://merchant.example/orders"}}"""))).Body)!;
        var first = await AnswerAsync(CreateAsync(MerchantClient, "checkout_preferences", PreferenceJson, "make-1"));
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var made = JsonNode.Parse(first.Body)!;
        Assert.Equal(earlier.Str("endpoint_id"), made.Str("endpoint_id"));
        Assert.Equal(earlier.Str("secret"), made.Str("secret"));
        Herald.Clock.Advance(TimeSpan.FromSeconds(30));

        var retry = await AnswerAsync(CreateAsync(MerchantClient, "checkout_preferences", PreferenceJson, "make-1"));
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(2, await CountAsync(MerchantClient, "checkout_preferences"));
        Assert.Equal(1, await CountAsync(MerchantClient, "endpoints"));
    }

    [Theory]
    [InlineData("endpoints", EndpointJson)]
    [InlineData("checkout_preferences", PreferenceJson)]
    public async Task ACreatesKey_GivenWithAnotherBodyOrRoute_Is422_AndMakesNothing(string collection, string json)
    {
        Assert.Equal(HttpStatusCode.Created, (await AnswerAsync(CreateAsync(MerchantClient, collection, json, "make-1"))).Status);
        var other = json.Replace("merchant.example", "other.example", StringComparison.Ordinal);
        await ApiErrors.ExpectErrorAsync(await CreateAsync(MerchantClient, collection, other, "make-1"), 422,
            "this Idempotency-Key was already used with a different request");
        // A key is the merchant's, one request's whatever the route: not a transaction's, nor the other resource's.
        await ApiErrors.ExpectErrorAsync(await CreateAsync(MerchantClient, "transactions", """{"paymentAmount":10,"currency":"BRL"}""", "make-1"), 422,
            "this Idempotency-Key was already used with a different request");
        var otherCollection = collection == "endpoints" ? "checkout_preferences" : "endpoints";
        await ApiErrors.ExpectErrorAsync(await CreateAsync(MerchantClient, otherCollection, collection == "endpoints" ? PreferenceJson : EndpointJson, "make-1"), 422,
            "Idempotency-Key");
        Assert.Equal(1, await CountAsync(MerchantClient, collection));
        // No other endpoint than the preference's own webhook, no preference beside the endpoint.
        Assert.Equal(collection == "endpoints" ? 0 : 1, await CountAsync(MerchantClient, otherCollection));
        Assert.Empty((await MerchantClient.GetJsonAsync("/v1/events?limit=10"))["data"]!.AsArray());

        // A transaction's key is not an endpoint's either.
        Assert.Equal(HttpStatusCode.Created, (await AnswerAsync(CreateAsync(MerchantClient, "transactions", """{"paymentAmount":10,"currency":"BRL"}""", "paid"))).Status);
        await ApiErrors.ExpectErrorAsync(await CreateAsync(MerchantClient, collection, json, "paid"), 422, "this Idempotency-Key was already used with a different request");
        Assert.Equal(1, await CountAsync(MerchantClient, collection));
    }

    [Fact]
    public async Task AnEndpointsCreate_RetriedAfterTheEndpointWasDeleted_Is409_AndMakesNoOther()
    {
        var first = JsonNode.Parse((await AnswerAsync(CreateAsync(MerchantClient, "endpoints", EndpointJson, "make-1"))).Body)!;
        var id = first.Str("id");
        Assert.Equal(HttpStatusCode.NoContent, (await MerchantClient.DeleteAsync($"/v1/endpoints/{id}")).StatusCode);

        await ApiErrors.ExpectErrorAsync(await CreateAsync(MerchantClient, "endpoints", EndpointJson, "make-1"), 409,
            $"this Idempotency-Key made endpoint {id}, deleted since");
        Assert.Equal(0, await CountAsync(MerchantClient, "endpoints"));
    }
}
