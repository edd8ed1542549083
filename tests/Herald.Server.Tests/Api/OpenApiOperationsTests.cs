using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// Every operation of the OpenAPI document has an operationId a generated client turns into a
/// readable method name: present, unique, camelCase, and the same from one release to the next.
/// </summary>
public sealed partial class OpenApiOperationsTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private List<(string Method, string Path, JsonObject Operation)> _operations = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync();
        var document = await _herald.Client.GetJsonAsync("/openapi/v1.json");
        _operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(method => (method.Key, path.Key, method.Value!.AsObject())))
            .ToList();
    }

    public async Task DisposeAsync() => await _herald.DisposeAsync();

    [Fact]
    public void EveryOperation_HasAUniqueCamelCaseOperationId()
    {
        Assert.Contains(_operations, o => o.Path == "/healthz");
        Assert.Contains(_operations, o => o.Path.StartsWith("/v1/", StringComparison.Ordinal));
        var ids = _operations.Select(o => o.Operation["operationId"]?.GetValue<string>()).ToList();
        Assert.All(_operations, o => Assert.True(o.Operation["operationId"] is not null, $"{o.Method} {o.Path} has no operationId"));
        Assert.All(ids, id => Assert.Matches(CamelCase(), id));
        Assert.Empty(ids.GroupBy(id => id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [Theory]
    [InlineData("get", "/healthz", "getHealth")]
    [InlineData("get", "/readyz", "getReadiness")]
    [InlineData("post", "/v1/merchants", "createMerchant")]
    [InlineData("post", "/v1/merchants/{id}/api_keys", "createMerchantApiKey")]
    [InlineData("post", "/v1/merchants/{id}/portal_links", "createMerchantPortalLink")]
    [InlineData("delete", "/v1/merchants/{id}/portal_sessions", "endMerchantPortalSessions")]
    [InlineData("delete", "/v1/api_keys/{id}", "revokeApiKey")]
    [InlineData("get", "/v1/endpoints", "listEndpoints")]
    [InlineData("post", "/v1/endpoints", "createEndpoint")]
    [InlineData("get", "/v1/endpoints/{id}", "getEndpoint")]
    [InlineData("patch", "/v1/endpoints/{id}", "updateEndpoint")]
    [InlineData("delete", "/v1/endpoints/{id}", "deleteEndpoint")]
    [InlineData("post", "/v1/endpoints/{id}/rotate_secret", "rotateEndpointSecret")]
    [InlineData("post", "/v1/endpoints/{id}/pause", "pauseEndpoint")]
    [InlineData("post", "/v1/operator/endpoints/{id}/pause", "pauseOperatorEndpoint")]
    [InlineData("patch", "/v1/operator/endpoints/{id}", "updateOperatorEndpoint")]
    [InlineData("post", "/v1/operator/endpoints/{id}/rotate_secret", "rotateOperatorEndpointSecret")]
    [InlineData("post", "/v1/checkout_preferences", "createCheckoutPreference")]
    [InlineData("get", "/v1/transactions/{id}", "getTransaction")]
    [InlineData("post", "/v1/transactions/{id}/transitions", "transitionTransaction")]
    [InlineData("get", "/v1/notifications", "listNotifications")]
    [InlineData("post", "/v1/notifications/{id}/resend", "resendNotification")]
    public void Operation_HasItsStableName(string method, string path, string operationId)
    {
        var operation = _operations.Single(o => o.Method == method && o.Path == path).Operation;

        Assert.Equal(operationId, operation["operationId"]!.GetValue<string>());
    }

    [Fact]
    public void Names_FollowOneVerbPerKindOfRoute()
    {
        // A paged list is list…, one resource read by its id is get…: the same across resources.
        Assert.All(_operations.Where(o => o.Operation["parameters"]?.AsArray().Any(p => p!["name"]!.GetValue<string>() == "limit") == true),
            o => Assert.StartsWith("list", o.Operation["operationId"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.All(_operations.Where(o => o.Method == "get" && o.Path.EndsWith('}')),
            o => Assert.StartsWith("get", o.Operation["operationId"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    /// <summary>lowerCamelCase words: a lower-case first word, each further word capitalised (ApiKey, not APIKey).</summary>
    [GeneratedRegex("^[a-z]+(?:[A-Z][a-z0-9]+)*$")]
    private static partial Regex CamelCase();
}
