using System.Text.Json.Nodes;
using Herald.Core.Tests.Payloads;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Payloads;

namespace Herald.Server.Tests.Api;

public sealed class EventTypesApiTests : HeraldWithReceiver
{
    [Fact]
    public async Task EventTypes_ListWhatEachFormatNotifies_AndEveryOneIsAcceptedAsAnEndpointFilter()
    {
        using var merchant = await Herald.NewMerchantAsync();

        var types = (await merchant.GetJsonAsync("/v1/event_types"))["data"]!.AsArray();

        var byFormat = types.GroupBy(t => t!.Str("format")).ToDictionary(g => g.Key, g => g.Select(t => t!.Str("type")).ToList());
        Assert.Equal(["point", "thin", "transaction"], byFormat.Keys.Order(StringComparer.Ordinal));
        // Seed 000 notifies only these states of a payment intent; seed 003's declined state is spelled as the seed spells it.
        Assert.Equal(["PAYMENT_INTENT.CANCELED", "PAYMENT_INTENT.ERROR", "PAYMENT_INTENT.FINISHED"], byFormat["point"].Order(StringComparer.Ordinal));
        Assert.Contains("TRANSACTION.DECINED", byFormat["transaction"]);
        Assert.Contains("PAYMENT_ORDER.CLOSED", byFormat["thin"]);
        var completed = types.Single(t => t!.Str("type") == "TRANSACTION.COMPLETED")!;
        Assert.Equal("TRANSACTION", completed.Str("entity_type"));
        Assert.Equal("COMPLETED", completed.Str("state"));

        // What the list names, an endpoint of that format takes as its filter.
        foreach (var (format, listed) in byFormat)
        {
            await merchant.PostJsonAsync("/v1/endpoints", new { url = Receiver.Url, format, event_types = listed });
        }
    }

    [Fact]
    public async Task AnEventTypesExample_IsShapedAsTheSeedsShowIt_AndAsWhatAnEndpointReceives()
    {
        using var merchant = await Herald.NewMerchantAsync();

        var completed = await merchant.GetJsonAsync("/v1/event_types/TRANSACTION.COMPLETED");
        Assert.Equal("transaction", completed.Str("format"));
        Assert.Equal("COMPLETED", completed["example"].Str("status"));
        JsonShape.AssertSameShape(SeedExamples.Transaction(), completed["example"]);
        var finished = await merchant.GetJsonAsync("/v1/event_types/PAYMENT_INTENT.FINISHED");
        JsonShape.AssertSameShape(SeedExamples.Point()[("FINISHED", "mla")], finished["example"]);
        // Not FINISHED: no payment, as seed 000 shows.
        Assert.Null((await merchant.GetJsonAsync("/v1/event_types/PAYMENT_INTENT.CANCELED"))["example"]!["payment"]);
        var closed = await merchant.GetJsonAsync("/v1/event_types/PAYMENT_ORDER.CLOSED");
        JsonShape.AssertSameShape(SeedExamples.Thin(), closed["example"]);
        Assert.Equal("PAYMENT_ORDER.CLOSED", closed["example"].Str("event_type"));
        // Seed 001's own order; the id is the event's, which Herald makes (as its webhook-id).
        Assert.Equal("rcAaNfKdKJRmrnj4l5", closed["example"].Str("entity_id"));
        Assert.StartsWith("evt_", closed["example"].Str("id"));
        // Seed 003's spelling of a declined transaction, whichever is asked for.
        Assert.Equal("TRANSACTION.DECINED", (await merchant.GetJsonAsync("/v1/event_types/TRANSACTION.DECLINED")).Str("type"));

        // What a real transaction endpoint receives has the example's shape.
        await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { event_types = new[] { "TRANSACTION.COMPLETED" } });
        var id = await merchant.NewTransactionAsync();
        await merchant.MoveAsync("transactions", id, "COMPLETED");
        var received = await Receiver.WaitForAsync(1);
        JsonShape.AssertSameShape(completed["example"], JsonNode.Parse(received.Body));

        foreach (var type in new[] { "PAYMENT_INTENT.OPEN", "TRANSACTION.NOPE", "nope" })
        {
            await ApiErrors.ExpectErrorAsync(await merchant.GetAsync("/v1/event_types/" + type), 404,
                $"event type {type} not found: Herald does not notify it (GET /v1/event_types lists those it does)");
        }
    }

    [Fact]
    public async Task EventTypes_WithoutAKey_Are401()
    {
        using var anonymous = new HttpClient { BaseAddress = Herald.Client.BaseAddress };
        using var response = await anonymous.GetAsync("/v1/event_types");
        Assert.Equal(401, (int)response.StatusCode);
    }
}
