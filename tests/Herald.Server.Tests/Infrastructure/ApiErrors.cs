using System.Text.Json.Nodes;

namespace Herald.Server.Tests.Infrastructure;

public static class ApiErrors
{
    /// <summary>Asserts an error answer: its status, the seed's shape (<c>statusCode, message, error</c>), a message holding <paramref name="contains"/>; answers its body.</summary>
    public static async Task<JsonObject> ExpectErrorAsync(HttpResponseMessage response, int status, string contains)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(["statusCode", "message", "error"], body.Select(p => p.Key));
        Assert.Equal(status, body["statusCode"]!.GetValue<int>());
        var messages = body["message"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.Contains(contains, StringComparison.OrdinalIgnoreCase));
        return body;
    }
}
