using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class EndpointHeadersTests : HeraldWithReceiver
{
    [Fact]
    public async Task Headers_OfAnEndpoint_GoWithEveryRequest_TestsToo_AndAPatchReplacesOrClearsThem()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var created = await merchant.PostJsonAsync("/v1/endpoints", new
        {
            url = Receiver.Url,
            format = "thin",
            headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gw-123", ["X-Gateway-Key"] = " k1 k2\t" },
        });
        var id = created.Str("id");
        // Credentials are never answered back; what the receiver gets is the value itself.
        Assert.Equal("********", created["headers"]!.Str("Authorization"));
        Assert.Equal("********", created["headers"]!.Str("X-Gateway-Key"));
        Assert.DoesNotContain("gw-123", (await merchant.GetJsonAsync($"/v1/endpoints/{id}")).ToJsonString(), StringComparison.Ordinal);

        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var delivered = await Receiver.WaitForAsync(1);
        Assert.Equal("Bearer gw-123", delivered.Headers["authorization"]);
        // Spaces around a value are no part of it (HTTP drops them): kept as the receiver sees it.
        Assert.Equal("k1 k2", delivered.Headers["x-gateway-key"]);
        // Herald's own headers are there as ever.
        Assert.StartsWith("v1,", delivered.Headers["webhook-signature"], StringComparison.Ordinal);

        await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);
        Assert.Equal("Bearer gw-123", (await Receiver.WaitForAsync(2)).Headers["authorization"]);

        // Replaced as a whole: the old ones are gone.
        var patched = await PatchAsync(merchant, id, new { headers = new Dictionary<string, string> { ["X-Other"] = "v" } }, 200);
        Assert.Equal(["X-Other"], patched["headers"]!.AsObject().Select(p => p.Key));
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 11, currency = "BRL" });
        var after = await Receiver.WaitForAsync(3);
        Assert.Equal("v", after.Headers["x-other"]);
        Assert.False(after.Headers.ContainsKey("authorization"));

        // Left out of a patch: kept; given empty: cleared.
        Assert.Equal("v", (await PatchAsync(merchant, id, new { description = "gateway" }, 200))["headers"]!.Str("X-Other"));
        Assert.Null((await PatchAsync(merchant, id, new { headers = new { } }, 200))["headers"]);
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 12, currency = "BRL" });
        Assert.False((await Receiver.WaitForAsync(4)).Headers.ContainsKey("x-other"));
    }

    [Fact]
    public async Task AHiddenCredential_SentBackAsRead_KeepsItsValue_AndOneWithNoneToKeepIsRefused()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["X-Api-Key"] = "k-1", ["X-Shop"] = "north" } });
        var read = (await merchant.GetJsonAsync($"/v1/endpoints/{id}"))["headers"]!.AsObject();
        Assert.Equal("north", read.Str("X-Shop"));

        // The set as read, one value changed and one added: the hidden one keeps what it was.
        read["X-Shop"] = "south";
        read["x-api-secret"] = "s-2";
        var patched = await PatchAsync(merchant, id, new { headers = read }, 200);
        Assert.Equal("********", patched["headers"]!.Str("X-Api-Key"));
        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var delivered = await Receiver.WaitForAsync(1);
        Assert.Equal("k-1", delivered.Headers["x-api-key"]);
        Assert.Equal("south", delivered.Headers["x-shop"]);
        Assert.Equal("s-2", delivered.Headers["x-api-secret"]);

        var none = await merchant.PatchAsJsonAsync($"/v1/endpoints/{id}", new { headers = new Dictionary<string, string> { ["Authorization"] = "********" } });
        await AssertRefusedAsync(none, "headers.Authorization: ******** stands for the value the endpoint keeps");
        await AssertRefusedAsync(await merchant.PostAsJsonAsync("/v1/endpoints", new { url = Receiver.Url, format = "thin", headers = new Dictionary<string, string> { ["X-Api-Key"] = "********" } }),
            "headers.X-Api-Key: ******** stands for the value the endpoint keeps");
        // A header that is no credential is taken as written, placeholder or not.
        Assert.Equal("********", (await PatchAsync(merchant, id, new { headers = new Dictionary<string, string> { ["X-Shop"] = "********" } }, 200))["headers"]!.Str("X-Shop"));
    }

    [Fact]
    public async Task MovedToAnotherHost_AnEndpointTakesItsCredentialsOnlyAsGivenAgain()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gw-9", ["X-Shop"] = "north" } });
        var read = (await merchant.GetJsonAsync($"/v1/endpoints/{id}"))["headers"]!.AsObject();
        const string elsewhere = "http://127.0.0.1:9/elsewhere";

        // Neither left out nor sent back as read: the hidden value would go to the new host.
        await AssertRefusedAsync(await merchant.PatchAsJsonAsync($"/v1/endpoints/{id}", new { url = elsewhere }), "url moves the endpoint to another host");
        await AssertRefusedAsync(await merchant.PatchAsJsonAsync($"/v1/endpoints/{id}", new { url = elsewhere, headers = read }), "url moves the endpoint to another host");
        Assert.Equal(Receiver.Url, (await merchant.GetJsonAsync($"/v1/endpoints/{id}")).Str("url"));

        // Another path on the same host keeps them; a new host with the value given again is fine.
        await PatchAsync(merchant, id, new { url = Receiver.Url + "/other" }, 200);
        await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);
        Assert.Equal("Bearer gw-9", (await Receiver.WaitForAsync(1)).Headers["authorization"]);
        await PatchAsync(merchant, id, new { url = elsewhere, headers = new Dictionary<string, string> { ["Authorization"] = "Bearer new-1" } }, 200);
    }

    [Fact]
    public async Task AReceiverRepeatingACredential_HasItHiddenInWhatIsKeptOfItsAnswer()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gw-echo-1" } });
        Receiver.Status = 401;
        Receiver.ResponseBody = "invalid credentials: Bearer gw-echo-1 (token gw-echo-1 unknown)";

        var tested = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var n = await merchant.WaitForAttemptsAsync(order.Str("id"), "PAYMENT_ORDER.OPENED", 1);

        Assert.DoesNotContain("gw-echo-1", tested.ToJsonString(), StringComparison.Ordinal);
        var excerpt = n["attempts"]![0]!.Str("response_excerpt");
        Assert.Equal("invalid credentials: ******** (token ******** unknown)", excerpt);
    }

    [Fact]
    public async Task ACredentialTheExcerptsEndWouldCut_OrRepeatedEscapedOrInAnotherCase_IsHiddenAllTheSame()
    {
        using var merchant = await Herald.NewMerchantAsync();
        const string value = "SuperSecretValue+/abc123XYZ";
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["X-Api-Keys"] = value } });
        Receiver.Status = 500;

        // Across the kept part's end (4,096 bytes): found whole in what was read beyond it.
        Receiver.ResponseBody = new string('A', 4070) + value;
        var cut = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);
        Assert.DoesNotContain("SuperSecret", cut.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        // As JSON escapes it, and in lower case.
        Receiver.ResponseBody = "{\"seen\":\"SuperSecretValue\\u002B\\/abc123XYZ\",\"lower\":\"supersecretvalue+/abc123xyz\"}";
        var escaped = await merchant.PostJsonAsync($"/v1/endpoints/{id}/test", new { }, 200);
        Assert.DoesNotContain("abc123", escaped.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("""{"webhook-id": "x"}""", "headers: webhook-id is set by Herald itself")]
    [InlineData("""{"Content-Type": "text/plain"}""", "headers: Content-Type is set by Herald itself")]
    [InlineData("""{"user-agent": "mine"}""", "headers: user-agent is set by Herald itself")]
    [InlineData("""{"Accept-Encoding": "gzip"}""", "headers: Accept-Encoding is set by Herald itself")]
    [InlineData("""{"Bad Name": "x"}""", "headers: 'Bad Name' is not a header name")]
    [InlineData("""{"": "x"}""", "headers: '' is not a header name")]
    [InlineData("""{"X-A": "one\r\nX-B: two"}""", "headers.X-A may hold only printable ASCII characters")]
    [InlineData("""{"X-A": "café"}""", "headers.X-A may hold only printable ASCII characters")]
    [InlineData("""{"x-a": "1", "X-A": "2"}""", "headers: X-A is given twice")]
    [InlineData("""{"X-A": null}""", "headers.X-A must be a string")]
    public async Task Headers_ThatAreNotHeaders_OrHeraldsOwn_Are400_AndChangeNothing(string headers, string message)
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (id, _) = await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["X-Kept"] = "yes" } });

        var refused = await merchant.PostAsync("/v1/endpoints", Json($$"""{"url": "{{Receiver.Url}}", "format": "thin", "headers": {{headers}}}"""));
        await AssertRefusedAsync(refused, message);
        var patched = await merchant.PatchAsync($"/v1/endpoints/{id}", Json($$"""{"headers": {{headers}}}"""));
        await AssertRefusedAsync(patched, message);

        var endpoints = (await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray();
        var only = Assert.Single(endpoints);
        Assert.Equal("yes", only!["headers"]!.Str("X-Kept"));
    }

    [Fact]
    public async Task Headers_TooManyOrTooLong_Are400()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var many = Enumerable.Range(0, 21).ToDictionary(i => $"X-H{i}", i => "v");
        await AssertRefusedAsync(await merchant.PostAsJsonAsync("/v1/endpoints", new { url = Receiver.Url, format = "thin", headers = many }), "headers may hold at most 20 headers");
        var longValue = new Dictionary<string, string> { ["X-Long"] = new('a', 1025) };
        await AssertRefusedAsync(await merchant.PostAsJsonAsync("/v1/endpoints", new { url = Receiver.Url, format = "thin", headers = longValue }), "headers.X-Long is longer than 1024 characters");
        var large = Enumerable.Range(0, 10).ToDictionary(i => $"X-Large{i}", i => new string('b', 1000));
        await AssertRefusedAsync(await merchant.PostAsJsonAsync("/v1/endpoints", new { url = Receiver.Url, format = "thin", headers = large }), "headers may add up to at most 8192 characters");
        await AssertRefusedAsync(await merchant.PostAsync("/v1/endpoints", Json($$$"""{"url": "{{{Receiver.Url}}}", "format": "thin", "headers": {"X-A": 5}}""")), "headers");
        Assert.Empty((await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());
    }

    [Fact]
    public async Task Headers_AreEncryptedInTheDatabase()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin", new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer very-secret-token" } });

        var stored = Assert.Single(await Herald.ReadDatabaseAsync("SELECT headers FROM endpoints"));
        Assert.StartsWith("dp1:", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-token", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("Authorization", stored, StringComparison.Ordinal);
    }

    private static StringContent Json(string text) => new(text, System.Text.Encoding.UTF8, "application/json");

    private static async Task<JsonObject> PatchAsync(HttpClient merchant, string id, object body, int expected)
    {
        using var response = await merchant.PatchAsJsonAsync($"/v1/endpoints/{id}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"PATCH: expected {expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string message)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 400, $"expected 400, got {(int)response.StatusCode}: {text}");
            var body = JsonNode.Parse(text)!;
            Assert.Equal(400, body["statusCode"]!.GetValue<int>());
            Assert.Contains(message, body["message"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }
}
