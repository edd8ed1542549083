using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// A create retried with its <c>Idempotency-Key</c> (after a timeout, say) makes one entity and one
/// notification, and is answered as the first call was, as a retried transition is.
/// </summary>
public sealed class CreateIdempotencyTests : HeraldWithMerchant
{
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

    private static async Task<int> EventCountAsync(HttpClient merchant) =>
        (await merchant.GetJsonAsync("/v1/events?limit=100"))["data"]!.AsArray().Count;

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
    public async Task RetriesOfOneCreateAtOnce_RecordOneEntity(bool onTwoPostgresNodes)
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
    }
}
