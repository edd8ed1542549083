using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>What a merchant does through the API, in the words of the tests.</summary>
public static class Merchant
{
    /// <summary>Seed 003's example transaction, without the fields Herald assigns.</summary>
    public static JsonObject SeedTransaction() => new()
    {
        ["sessionId"] = "35eac8b8-e40b-447e-a214-8dd1f0e23996",
        ["merchantName"] = "Fer Merchant",
        ["userId"] = "Merch_User_123",
        ["type"] = "BANK",
        ["paymentOptionName"] = "Lottery",
        ["country"] = "BR",
        ["currency"] = "BRL",
        ["paymentAmount"] = 130,
        ["merchantReference"] = "orde123",
        ["language"] = "ES",
        ["paymentReference"] = "Invoice ABC123",
        ["storedToken"] = "index-stored",
        ["extra1"] = "extraData001",
        ["extra2"] = "extraData002",
        ["extra3"] = "extraData003",
        ["customer"] = new JsonObject
        {
            ["name"] = "John Doe",
            ["email"] = "john@email.test",
            ["phone"] = "+34666999666",
            ["userDevice"] = "MOBILE",
            ["userAgent"] = "Mozilla/5.0 (X11; Linux x86_64)",
            ["ip"] = "84.232.140.77",
            ["address"] = Address(),
            ["identify"] = new JsonObject { ["number"] = "76486883X", ["type"] = "DNI" },
        },
        ["orderDetails"] = new JsonArray(new JsonObject
        {
            ["productName"] = "shirt-1233474",
            ["quantity"] = 1,
            ["dimensions"] = "85x51",
            ["description"] = "Blue sports t-shirt ",
        }),
        ["shippingAddress"] = Address(),
    };

    private static JsonObject Address() => new()
    {
        ["street"] = "32 Windsor Gardens",
        ["streetNumber"] = "24",
        ["country"] = "GB",
        ["zipCode"] = "W9 3RG",
        ["city"] = "London",
        ["state"] = "Great London.",
    };

    public static async Task<(string Id, string Secret)> AddEndpointAsync(this HttpClient merchant, string url, string format, object? extra = null)
    {
        var body = new JsonObject { ["url"] = url, ["format"] = format };
        if (extra is not null)
        {
            foreach (var (key, value) in JsonSerializer.SerializeToNode(extra)!.AsObject())
            {
                body[key] = value?.DeepClone();
            }
        }
        var endpoint = await merchant.PostJsonAsync("/v1/endpoints", body);
        return (endpoint.Str("id"), endpoint.Str("secret"));
    }

    public static async Task<string> NewTransactionAsync(this HttpClient merchant)
    {
        var transaction = await merchant.PostJsonAsync("/v1/transactions", SeedTransaction());
        return transaction.Str("internalId");
    }

    public static Task<JsonObject> MoveAsync(this HttpClient merchant, string collection, string id, string to, object? data = null, int expectedStatus = 200) =>
        merchant.PostJsonAsync($"/v1/{collection}/{id}/transitions", data is null ? new { to } : new { to, data }, expectedStatus);

    public static async Task<JsonArray> NotificationsAsync(this HttpClient merchant, string query)
    {
        var page = await merchant.GetJsonAsync("/v1/notifications?" + query);
        return page["data"]!.AsArray();
    }

    public static Task<JsonObject> NotificationAsync(this HttpClient merchant, string id) =>
        merchant.GetJsonAsync("/v1/notifications/" + id);

    /// <summary>The one notification of an event type for an entity.</summary>
    public static async Task<JsonObject> NotificationOfAsync(this HttpClient merchant, string entityId, string eventType)
    {
        var list = await merchant.NotificationsAsync($"entity_id={entityId}&event_type={eventType}");
        Assert.Single(list);
        return await merchant.NotificationAsync(list[0]!.Str("id"));
    }

    /// <summary>Waits (real time, bounded) until the notification has recorded at least <paramref name="attempts"/> attempts.</summary>
    public static async Task<JsonObject> WaitForAttemptsAsync(this HttpClient merchant, string entityId, string eventType, int attempts)
    {
        JsonObject n = null!;
        await HeraldHost.EventuallyAsync(async () =>
        {
            n = await merchant.NotificationOfAsync(entityId, eventType);
            // The row is read before its attempts, so its count is the one to wait on.
            return n["attempt_count"]!.GetValue<int>() >= attempts;
        });
        return n;
    }
}
