using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// What the platform leaves out of a transaction is delivered as null, never made up: Herald fills
/// only what it knows for a fact (the id, the state, and the merchant's own name).
/// </summary>
public sealed class FieldsLeftOutTests : HeraldWithReceiver
{
    [Fact]
    public async Task ATransactionCreatedWithoutASessionId_IsDeliveredWithNone()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        var created = await merchant.PostJsonAsync("/v1/transactions", new { paymentAmount = 130, currency = "BRL" });
        Assert.True(created.ContainsKey("sessionId"));
        Assert.Null(created["sessionId"]);
        Assert.Null((await merchant.GetJsonAsync($"/v1/transactions/{created.Str("internalId")}"))["sessionId"]);

        var delivered = System.Text.Json.Nodes.JsonNode.Parse((await Receiver.WaitForAsync(1)).Body)!.AsObject();
        Assert.True(delivered.ContainsKey("sessionId"));
        Assert.Null(delivered["sessionId"]);
    }

    [Fact]
    public async Task ATransactionsSessionIdAndMerchantName_AreKeptAsThePlatformGaveThem()
    {
        using var merchant = await Herald.NewMerchantAsync("Acme");
        var created = await merchant.PostJsonAsync("/v1/transactions", Merchant.SeedTransaction());
        Assert.Equal("35eac8b8-e40b-447e-a214-8dd1f0e23996", created.Str("sessionId"));
        Assert.Equal("Fer Merchant", created.Str("merchantName"));
    }

    [Fact]
    public async Task ATransactionCreatedWithoutAMerchantName_CarriesTheMerchantsNameInHerald_AsItWasThen()
    {
        using var admin = Herald.As(HeraldHost.AdminKey);
        using var merchant = await Herald.NewMerchantAsync("Fer Merchant");
        var created = await merchant.PostJsonAsync("/v1/transactions", new { paymentAmount = 130, currency = "BRL", merchantName = (string?)null });
        Assert.Equal("Fer Merchant", created.Str("merchantName"));

        // A later rename does not rewrite what was recorded, nor what its next notification carries.
        var merchantId = (await admin.GetJsonAsync("/v1/merchants?limit=1"))["data"]![0]!.Str("id");
        using var rename = await admin.PatchAsync($"/v1/merchants/{merchantId}",
            new System.Net.Http.StringContent("""{"name":"Fer Merchant S.A."}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(rename.IsSuccessStatusCode);
        var moved = await merchant.MoveAsync("transactions", created.Str("internalId"), "PROCESSING");
        Assert.Equal("Fer Merchant", moved.Str("merchantName"));
    }
}
