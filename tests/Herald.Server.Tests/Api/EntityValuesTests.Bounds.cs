using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// What an entity keeps is bounded as the request that sends it is: a list holds at most 100
/// entries, and a document, as stored and notified, at most 256 KB. A refusal records nothing:
/// no entity, no event, no notification.
/// </summary>
public sealed partial class EntityValuesTests
{
    /// <summary>A character written as a 12-byte escape where Herald keeps it, and sent as 4 bytes.</summary>
    private const string Emoji = "\U0001F600";

    /// <summary>A text of the most characters a field takes, each an <see cref="Emoji"/>: 4 KB sent, 12 KB kept.</summary>
    private static readonly string LongestEmojiText = string.Concat(Enumerable.Repeat(Emoji, 1024));

    /// <summary>A transaction's body with more fields, written by hand so that its characters are sent as they are, not escaped.</summary>
    private static string Transaction(params IEnumerable<string> fields) =>
        $$"""{"paymentAmount":10,"currency":"BRL"{{string.Concat(fields.Select(field => "," + field))}}}""";

    private static string Transition(string data) => $$$"""{"to":"PROCESSING","data":{{{{data}}}}}""";

    private static string OrderDetails(int lines, string line = "{}") => $"\"orderDetails\":[{string.Join(",", Enumerable.Repeat(line, lines))}]";

    private async Task<int> NotificationCountAsync() => (await MerchantClient.NotificationsAsync("limit=100")).Count;

    [Theory]
    [InlineData(101)]
    [InlineData(85_000)]
    public async Task AnOrderOfMoreThan100Lines_Is400NamingTheFieldAndTheBound_AndRecordsNothing(int lines)
    {
        await MerchantClient.AddEndpointAsync("https://merchant.example/hooks", "transaction");
        await ExpectBadRequestAsync(await PostRawAsync("/v1/transactions", Transaction(OrderDetails(lines))),
            $"transaction.orderDetails may hold at most 100 entries, not {lines}");
        Assert.Equal(0, await EventCountAsync());
        Assert.Equal(0, await NotificationCountAsync());

        var id = await MerchantClient.NewTransactionAsync();
        await ExpectBadRequestAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", Transition(OrderDetails(lines))),
            $"data.orderDetails may hold at most 100 entries, not {lines}");
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal(1, await NotificationCountAsync());
        var transaction = await MerchantClient.GetJsonAsync($"/v1/transactions/{id}");
        Assert.Equal("INIT", transaction.Str("status"));
        Assert.Single(transaction["orderDetails"]!.AsArray());
    }

    [Fact]
    public async Task AnOrderOf100Lines_IsTaken_AndEachLineKeepsSeed003sKeys()
    {
        var created = await CreatedAsync("/v1/transactions", Transaction(OrderDetails(100)));
        var lines = created["orderDetails"]!.AsArray();
        Assert.Equal(100, lines.Count);
        Assert.All(lines, line => Assert.Equal("""{"productName":null,"quantity":null,"dimensions":null,"description":null}""", line!.ToJsonString()));

        using var moved = await PostRawAsync($"/v1/transactions/{created.Str("internalId")}/transitions",
            Transition(OrderDetails(100, """{"quantity":2}""")));
        Assert.Equal(System.Net.HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(100, (await MerchantClient.GetJsonAsync($"/v1/transactions/{created.Str("internalId")}"))["orderDetails"]!.AsArray().Count(l => l!["quantity"]!.GetValue<int>() == 2));
    }

    [Fact]
    public async Task APreferenceOfMoreThan100Items_OrAListInAnItemOfMore_Is400_And100AreTaken()
    {
        string Items(int count, string item = """{"title":"shirt"}""") => $$"""{"items":[{{string.Join(",", Enumerable.Repeat(item, count))}}]}""";
        await ExpectBadRequestAsync(await PostRawAsync("/v1/checkout_preferences", Items(101)), "items may hold at most 100 entries, not 101");
        await ExpectBadRequestAsync(await PostRawAsync("/v1/checkout_preferences", Items(1, $$"""{"sizes":[{{string.Join(",", Enumerable.Repeat("\"M\"", 101))}}]}""")),
            "items[0].sizes may hold at most 100 entries, not 101");
        Assert.Empty((await MerchantClient.GetJsonAsync("/v1/checkout_preferences"))["data"]!.AsArray());
        Assert.Equal(100, (await CreatedAsync("/v1/checkout_preferences", Items(100)))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task ATransactionOver256KbAsKept_Is413NamingItsLargestFieldAndTheBound_AndRecordsNothing()
    {
        await MerchantClient.AddEndpointAsync("https://merchant.example/hooks", "transaction");
        // 100 KB sent, well within a body's 256 KB; 300 KB kept and notified.
        var body = Transaction(OrderDetails(25, $$"""{"description":"{{LongestEmojiText}}"}"""));
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 0, 128 * 1024);

        var refused = await ApiErrors.ExpectErrorAsync(await PostRawAsync("/v1/transactions", body), 413,
            "more than the 262144 bytes (256 KB) an entity may be; its largest field, orderDetails,");
        Assert.Equal("Payload Too Large", refused.Str("error"));
        Assert.StartsWith("the transaction would be ", refused["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, await EventCountAsync());
        Assert.Equal(0, await NotificationCountAsync());
    }

    /// <summary>A preference's body with <paramref name="count"/> items, each a title of <see cref="LongestEmojiText"/>, sent as it is, not escaped.</summary>
    private static string PreferenceOfEmojiItems(int count) =>
        "{\"custom_urls\":{\"status_changes_webhook\":\"https://merchant.example/orders\"},\"items\":["
        + string.Join(",", Enumerable.Repeat("{\"title\":\"" + LongestEmojiText + "\"}", count)) + "]}";

    [Fact]
    public async Task APreferenceOver256KbAsKept_Is413NamingItsItemsAndTheBound_AndKeepsNothing()
    {
        // 100 KB sent, well within a body's 256 KB; 300 KB kept, and read back whole in every page of the list.
        var body = PreferenceOfEmojiItems(25);
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 0, 128 * 1024);

        var refused = await ApiErrors.ExpectErrorAsync(await PostRawAsync("/v1/checkout_preferences", body), 413,
            "more than the 262144 bytes (256 KB) a checkout preference may be; its largest field, items,");
        Assert.StartsWith("the checkout preference would be ", refused["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await MerchantClient.GetJsonAsync("/v1/checkout_preferences"))["data"]!.AsArray());
        Assert.Empty((await MerchantClient.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());

        // Within the bound as kept, it is taken.
        Assert.Equal(20, (await CreatedAsync("/v1/checkout_preferences", PreferenceOfEmojiItems(20)))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task ATransitionThatWouldMakeATransactionOver256Kb_Is413_AndLeavesItAsItWas()
    {
        await MerchantClient.AddEndpointAsync("https://merchant.example/hooks", "transaction");
        // Each under the bound alone: 12 texts of 12 KB kept, then 12 order lines of as much.
        var texts = new[] { "sessionId", "merchantName", "userId", "type", "paymentOptionName", "merchantReference", "language", "paymentReference", "storedToken", "extra1", "extra2", "extra3" }
            .Select(field => $"\"{field}\":\"{LongestEmojiText}\"");
        var created = await CreatedAsync("/v1/transactions", Transaction(texts));
        var id = created.Str("internalId");

        var data = OrderDetails(12, $$"""{"description":"{{LongestEmojiText}}"}""");
        await ApiErrors.ExpectErrorAsync(await PostRawAsync($"/v1/transactions/{id}/transitions", Transition(data)), 413,
            "more than the 262144 bytes (256 KB) an entity may be; its largest field, orderDetails,");
        Assert.Equal(1, await EventCountAsync());
        Assert.Equal(1, await NotificationCountAsync());
        var transaction = await MerchantClient.GetJsonAsync($"/v1/transactions/{id}");
        Assert.Equal("INIT", transaction.Str("status"));
        Assert.Null(transaction["orderDetails"]);
        Assert.Equal(LongestEmojiText, transaction.Str("extra3"));
    }

    /// <summary>
    /// A transaction of ASCII order lines that Herald keeps in <paramref name="bytes"/> bytes, INIT
    /// (a probe made first says how many bytes the same transaction takes with a shorter last line).
    /// </summary>
    private async Task<string> TransactionKeptInAsync(int bytes)
    {
        // 83 full lines, one that sizes it, and 16 empty ones, which take 70 bytes each kept for 2 sent.
        static string Body(int last) => Transaction("\"merchantName\":\"Fer Merchant\"", OrderDetails(83, $$"""{"productName":"{{new string('a', 1024)}}","quantity":1,"dimensions":"{{new string('b', 1024)}}","description":"{{new string('c', 1024)}}"}""")
            .Replace("]", $$""",{"productName":"{{new string('p', last)}}"}{{string.Concat(Enumerable.Repeat(",{}", 16))}}]""", StringComparison.Ordinal));
        var probe = await CreatedAsync("/v1/transactions", Body(10));
        var probeBytes = Encoding.UTF8.GetByteCount(probe.ToJsonString());
        return Body(10 + bytes - probeBytes);
    }

    [Fact]
    public async Task ATransactionIsTakenOnlyWithRoomForItsLongestState_SoThatEveryMoveWithoutDataFits()
    {
        var room = "USER_CANCEL".Length - "INIT".Length;
        // At the bound as INIT, it could never move: every other state is longer.
        await ApiErrors.ExpectErrorAsync(await PostRawAsync("/v1/transactions", await TransactionKeptInAsync(262_144)), 413,
            "more than the 262144 bytes (256 KB) an entity may be");
        await ApiErrors.ExpectErrorAsync(await PostRawAsync("/v1/transactions", await TransactionKeptInAsync(262_144 - room + 1)), 413,
            "in its longest state, USER_CANCEL");

        var canceled = await CreatedAsync("/v1/transactions", await TransactionKeptInAsync(262_144 - room));
        Assert.Equal(262_144 - room, Encoding.UTF8.GetByteCount(canceled.ToJsonString()));
        using (var moved = await PostRawAsync($"/v1/transactions/{canceled.Str("internalId")}/transitions", """{"to":"USER_CANCEL"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }
        var refunded = (await CreatedAsync("/v1/transactions", await TransactionKeptInAsync(262_144 - room))).Str("internalId");
        foreach (var to in new[] { "PROCESSING", "COMPLETED", "REFUNDED" })
        {
            using var moved = await PostRawAsync($"/v1/transactions/{refunded}/transitions", $$"""{"to":"{{to}}"}""");
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }
    }
}
