using System.Text;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>An endpoint's description can be given, changed and taken away again.</summary>
public sealed class EndpointDescriptionTests : HeraldWithReceiver
{
    [Fact]
    public async Task ADescriptionEmptied_ReadsAsNone_AndOneLeftOutOrNullStaysAsItWas()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { description = "checkout" });
        Assert.Equal("checkout", (await merchant.GetJsonAsync($"/v1/endpoints/{id}")).Str("description"));

        async Task<System.Text.Json.Nodes.JsonObject> PatchAsync(string body)
        {
            using var response = await merchant.PatchAsync($"/v1/endpoints/{id}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await merchant.GetJsonAsync($"/v1/endpoints/{id}"));
        }

        Assert.Equal("checkout", (await PatchAsync("""{"description":null}""")).Str("description"));
        Assert.Equal("checkout", (await PatchAsync("""{"timeout_seconds":10}""")).Str("description"));
        Assert.Null((await PatchAsync("""{"description":""}"""))["description"]);
        Assert.Equal("refunds", (await PatchAsync("""{"description":"refunds"}""")).Str("description"));
        Assert.Null((await PatchAsync("""{"description":"   "}"""))["description"]);

        // One given blank at creation is none too.
        var (blank, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { description = "" });
        Assert.Null((await merchant.GetJsonAsync($"/v1/endpoints/{blank}"))["description"]);
    }
}
