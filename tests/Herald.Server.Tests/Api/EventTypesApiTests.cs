using Herald.Server.Tests.Infrastructure;

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
    public async Task EventTypes_WithoutAKey_Are401()
    {
        using var anonymous = new HttpClient { BaseAddress = Herald.Client.BaseAddress };
        using var response = await anonymous.GetAsync("/v1/event_types");
        Assert.Equal(401, (int)response.StatusCode);
    }
}
