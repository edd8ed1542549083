using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// The NUL character, which PostgreSQL's text cannot hold, is refused in bodies and queries with a
/// 400 on both databases alike, and nothing is written (in a path, Kestrel refuses it first).
/// </summary>
public sealed class NulCharacterTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NulInABodyOrQuery_Is400_AndChangesNothing(bool onPostgres)
    {
        await using var db = onPostgres ? await PostgresDatabase.CreateAsync() : null;
        await using var herald = await HeraldHost.StartAsync(postgres: db?.ConnectionString);
        using var merchant = await herald.NewMerchantAsync();
        var before = (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray().Count;

        var created = await merchant.PostAsync("/v1/endpoints", new StringContent(
            """{"url":"https://hooks.example.com/h","format":"thin","description":"a\u0000b"}""", Encoding.UTF8, "application/json"));
        await ExpectNulRefusedAsync(created, "description");
        Assert.Equal(before, (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray().Count);

        foreach (var path in new[] { "/v1/events?entity_id=%00", "/v1/notifications?starting_after=a%00", "/v1/notifications?%00=1" })
        {
            await ExpectNulRefusedAsync(await merchant.GetAsync(path), "NUL");
        }
    }

    private static async Task ExpectNulRefusedAsync(HttpResponseMessage response, string mentions)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 400, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        Assert.True(text.Length > 0, $"{response.RequestMessage?.RequestUri}: an empty 400");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(400, body["statusCode"]!.GetValue<int>());
        Assert.Contains(body["message"]!.AsArray(), m => m!.GetValue<string>().Contains("NUL", StringComparison.Ordinal) && m.GetValue<string>().Contains(mentions, StringComparison.Ordinal));
    }
}
