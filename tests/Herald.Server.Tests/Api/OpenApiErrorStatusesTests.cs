using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>
/// Each operation of the OpenAPI document lists the error statuses it can answer, each under its
/// own code, so a generated client (and the reference at /docs) tells a route's refusals apart:
/// those its shape brings (a body, a query, a path id, a key) and those its handler has.
/// </summary>
public sealed class OpenApiErrorStatusesTests : IAsyncLifetime
{
    private HeraldHost _herald = null!;
    private JsonObject _document = null!;

    public async Task InitializeAsync()
    {
        // A merchant's burst is enough for the walk, and its end is reached within it.
        _herald = await HeraldHost.StartAsync(rateLimit: (1, 40));
        _document = await _herald.Client.GetJsonAsync("/openapi/v1.json");
    }

    public async Task DisposeAsync() => await _herald.DisposeAsync();

    private JsonObject Responses(string method, string path) => _document["paths"]![path]![method]!["responses"]!.AsObject();

    private string Refusals(string method, string path) =>
        string.Join(" ", Responses(method, path).Select(r => r.Key).Where(k => k.Length == 3 && k[0] is '4' or '5').Order(StringComparer.Ordinal));

    [Theory]
    // One by its id: no body, no query values but a key's refusals.
    [InlineData("get", "/v1/endpoints/{id}", "400 401 403 404 429 503")]
    // A list with filters: nothing in its path to find.
    [InlineData("get", "/v1/notifications", "400 401 403 429 503")]
    // A create with an Idempotency-Key: a body, a key reused (422), a request with the key under way (409).
    [InlineData("post", "/v1/transactions", "400 401 403 408 409 413 415 422 429 503")]
    // The admin's: no path id, no conflict.
    [InlineData("post", "/v1/merchants", "400 401 403 408 413 415 429 503")]
    // A delete refuses any body but {} as a body is refused.
    [InlineData("delete", "/v1/endpoints/{id}", "400 401 403 404 408 413 415 429 503")]
    [InlineData("delete", "/v1/api_keys/{id}", "400 401 403 404 408 409 413 415 429 503")]
    // Any key reads it: no key is refused for its kind.
    [InlineData("get", "/v1/event_types", "400 401 429 503")]
    public void Operation_ListsTheErrorStatusesItAnswers(string method, string path, string statuses)
    {
        Assert.Equal(statuses, Refusals(method, path));
    }

    [Fact]
    public void EachErrorStatus_SaysWhatItMeansOnItsRoute_InTheErrorShape()
    {
        foreach (var (path, item) in _document["paths"]!.AsObject().Where(p => p.Key.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var (status, response) in operation!["responses"]!.AsObject().Where(r => r.Key is "default" || r.Key[0] is '4' or '5'))
                {
                    var where = $"{method} {path} {status}";
                    Assert.True(response!["description"]?.GetValue<string>() is { Length: > 0 }, where);
                    Assert.Equal("#/components/schemas/ErrorBody", response["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
                    Assert.True(status is not ("429" or "503") || response["headers"]?["Retry-After"] is not null, $"{where} without Retry-After");
                }
                Assert.True(operation["responses"]!["default"] is not null, $"{method} {path} has no default answer for a failure of Herald's");
            }
        }
        // What each means there, said for that route.
        Assert.Contains("admin key", Description("get", "/v1/endpoints/{id}", "403"), StringComparison.Ordinal);
        Assert.Contains("merchant's key", Description("post", "/v1/merchants", "403"), StringComparison.Ordinal);
        Assert.Contains("read-only", Description("post", "/v1/transactions", "403"), StringComparison.Ordinal);
        Assert.DoesNotContain("read-only", Description("get", "/v1/endpoints/{id}", "403"), StringComparison.Ordinal);
        Assert.Contains("state", Description("post", "/v1/transactions/{id}/transitions", "409"), StringComparison.Ordinal);
        Assert.Contains("revoked already", Description("delete", "/v1/api_keys/{id}", "409"), StringComparison.Ordinal);
        Assert.Contains("endpoint", Description("get", "/v1/endpoints/{id}", "404"), StringComparison.Ordinal);
        Assert.Contains("queue", Description("post", "/v1/notifications/{id}/resend", "503"), StringComparison.Ordinal);
        Assert.DoesNotContain("queue", Description("get", "/v1/notifications", "503"), StringComparison.Ordinal);
        Assert.Contains("under way", Description("get", "/v1/stats", "429"), StringComparison.Ordinal);
    }

    private string Description(string method, string path, string status) => Responses(method, path)[status]!["description"]!.GetValue<string>();

    /// <summary>
    /// Real requests provoke every error status the document lists somewhere, each on a route that
    /// lists it: the document is held to what Herald answers, not only to the rules it was made by.
    /// </summary>
    [Fact]
    public async Task EveryErrorStatusTheDocumentLists_IsAnsweredByARouteListingIt()
    {
        var contract = await OpenApiContract.LoadAsync(_herald.Client);
        var answered = new HashSet<int>();
        async Task ExpectAsync(HttpClient client, HttpMethod method, string path, string template, int status, HttpContent? body = null, string? idempotencyKey = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body };
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }
            using var response = await client.SendAsync(request);
            Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            await contract.AssertAnswersAsDocumentedAsync(response, method.Method, template);
            answered.Add(status);
        }

        using var admin = _herald.As(HeraldHost.AdminKey);
        using var merchant = await _herald.NewMerchantAsync();
        using var other = await _herald.NewMerchantAsync("Other");
        // A body that stops arriving is answered once Kestrel's least rate has been missed past its
        // grace (some seconds): started first, looked at last.
        var stalled = StalledBodyAsync(HeraldHost.AdminKey, "/v1/merchants");
        var (endpoint, _) = await merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "thin");
        var transaction = await merchant.NewTransactionAsync();

        // A route that takes no query refuses one.
        await ExpectAsync(merchant, HttpMethod.Get, "/v1/event_types?type=x", "/v1/event_types", 400);
        await ExpectAsync(_herald.Client, HttpMethod.Get, "/v1/endpoints/" + endpoint, "/v1/endpoints/{id}", 401);
        await ExpectAsync(admin, HttpMethod.Get, "/v1/endpoints/" + endpoint, "/v1/endpoints/{id}", 403);
        await ExpectAsync(merchant, HttpMethod.Post, "/v1/merchants", "/v1/merchants", 403, JsonContent.Create(new { name = "x" }));
        await ExpectAsync(merchant, HttpMethod.Get, "/v1/endpoints/ep_none", "/v1/endpoints/{id}", 404);
        await ExpectAsync(merchant, HttpMethod.Post, $"/v1/transactions/{transaction}/transitions", "/v1/transactions/{id}/transitions", 200,
            JsonContent.Create(new { to = "COMPLETED" }));
        await ExpectAsync(merchant, HttpMethod.Post, $"/v1/transactions/{transaction}/transitions", "/v1/transactions/{id}/transitions", 409,
            JsonContent.Create(new { to = "PROCESSING" }));
        // A route that takes no body refuses one as a route with a body would.
        await ExpectAsync(merchant, HttpMethod.Delete, "/v1/endpoints/" + endpoint, "/v1/endpoints/{id}", 413,
            new StringContent($$"""{"x":"{{new string('a', 300_000)}}"}""", Encoding.UTF8, "application/json"));
        await ExpectAsync(merchant, HttpMethod.Delete, "/v1/endpoints/" + endpoint, "/v1/endpoints/{id}", 415,
            new StringContent("x=1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await ExpectAsync(merchant, HttpMethod.Post, "/v1/payment_orders", "/v1/payment_orders", 201, JsonContent.Create(new { amount = 10, currency = "BRL" }), "order-1");
        await ExpectAsync(merchant, HttpMethod.Post, "/v1/payment_orders", "/v1/payment_orders", 422, JsonContent.Create(new { amount = 11, currency = "BRL" }), "order-1");

        // Past the merchant's burst.
        for (var i = 0; i < 60 && !answered.Contains(429); i++)
        {
            using var response = await merchant.GetAsync("/v1/notifications");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await contract.AssertAnswersAsDocumentedAsync(response, "GET", "/v1/notifications");
                answered.Add(429);
            }
        }

        // The database gone from under the node: a change is refused.
        await HeraldHost.EventuallyAsync(async () => (await _herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        foreach (var file in Directory.EnumerateFiles(_herald.DataDirectory, "herald.db*"))
        {
            File.Delete(file);
        }
        await HeraldHost.EventuallyAsync(async () => (await _herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable);
        await ExpectAsync(other, HttpMethod.Post, "/v1/payment_orders", "/v1/payment_orders", 503, JsonContent.Create(new { amount = 10, currency = "BRL" }));

        using (var timedOut = await stalled)
        {
            Assert.Equal(HttpStatusCode.RequestTimeout, timedOut.StatusCode);
            await contract.AssertAnswersAsDocumentedAsync(timedOut, "POST", "/v1/merchants");
            answered.Add(408);
        }

        var listed = _document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().SelectMany(o => o.Value!["responses"]!.AsObject().Select(r => r.Key)))
            .Where(k => k.Length == 3 && k[0] is '4' or '5').Select(int.Parse).ToHashSet();
        Assert.Equal(listed.Order(), answered.Where(s => s >= 400).Order());
    }
    /// <summary>
    /// Sends <paramref name="path"/> a JSON body that says 100 bytes and stops after 8, and reads the
    /// answer Herald gives when it stops waiting for the rest, as a client would have it.
    /// </summary>
    private async Task<HttpResponseMessage> StalledBodyAsync(string key, string path)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        var address = _herald.Client.BaseAddress!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await tcp.ConnectAsync(address.Host, address.Port, deadline.Token);
        var stream = tcp.GetStream();
        var request = $"POST {path} HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {key}\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), deadline.Token);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        string? head = null;
        string? body = null;
        // Read until the answer is whole: by its Content-Length, its last chunk, or the connection's end.
        while (body is null)
        {
            var read = await stream.ReadAsync(buffer, deadline.Token);
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var text = received.ToString();
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0)
            {
                Assert.True(read > 0, $"the connection ended before an answer to a stalled body: {text}");
                continue;
            }
            head = text[..split];
            var rest = text[(split + 4)..];
            var length = Header(head, "Content-Length");
            if (length is not null && rest.Length >= int.Parse(length, System.Globalization.CultureInfo.InvariantCulture))
            {
                body = rest;
            }
            else if (Header(head, "Transfer-Encoding") == "chunked" && rest.EndsWith("0\r\n\r\n", StringComparison.Ordinal))
            {
                body = string.Concat(Chunks(rest));
            }
            else if (read == 0)
            {
                body = rest;
            }
        }
        var status = int.Parse(head!.Split("\r\n")[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(body) };
        var contentType = Header(head, "Content-Type");
        response.Content.Headers.ContentType = contentType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        return response;

        static string? Header(string head, string name) => head.Split("\r\n").Skip(1).Select(l => l.Split(':', 2))
            .FirstOrDefault(h => h[0].Equals(name, StringComparison.OrdinalIgnoreCase))?[1].Trim();

        static IEnumerable<string> Chunks(string chunked)
        {
            for (var at = 0; ;)
            {
                var end = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(chunked[at..end], 16);
                if (size == 0)
                {
                    yield break;
                }
                yield return chunked.Substring(end + 2, size);
                at = end + 2 + size + 2;
            }
        }
    }
}
