using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Receiver.Events;

namespace Herald.Receiver;

/// <summary>Reads entities back from Herald's API with the merchant's key.</summary>
public sealed class HeraldClient
{
    private readonly HttpClient _http;

    /// <summary>Creates a client on <paramref name="http"/>, whose base address is Herald's (e.g. <c>https://herald.example</c>).</summary>
    /// <param name="http">An HTTP client with its BaseAddress set.</param>
    /// <param name="apiKey">The merchant's API key (<c>hk_…</c>).</param>
    public HeraldClient(HttpClient http, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        _http = http;
        ApiKey = apiKey;
    }

    private string ApiKey { get; }

    /// <summary>The payment order as Herald has it now (seed 001: GET it after a thin notification).</summary>
    /// <exception cref="HttpRequestException">Herald could not be reached, or answered other than 2xx (its status in <see cref="HttpRequestException.StatusCode"/>).</exception>
    /// <exception cref="JsonException">Herald's answer is no JSON object the kit's models can read (not JSON, another value, a key given twice, a text escaped as a lone surrogate).</exception>
    public Task<JsonObject> GetPaymentOrderAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync($"v1/payment_orders/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>The transaction as Herald has it now.</summary>
    /// <exception cref="HttpRequestException">Herald could not be reached, or answered other than 2xx (its status in <see cref="HttpRequestException.StatusCode"/>).</exception>
    /// <exception cref="JsonException">Herald's answer is no JSON object the kit's models can read (not JSON, another value, a key given twice, a text escaped as a lone surrogate).</exception>
    public Task<JsonObject> GetTransactionAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync($"v1/transactions/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>The payment intent as Herald has it now.</summary>
    /// <exception cref="HttpRequestException">Herald could not be reached, or answered other than 2xx (its status in <see cref="HttpRequestException.StatusCode"/>).</exception>
    /// <exception cref="JsonException">Herald's answer is no JSON object the kit's models can read (not JSON, another value, a key given twice, a text escaped as a lone surrogate).</exception>
    public Task<JsonObject> GetPaymentIntentAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync($"v1/payment_intents/{Uri.EscapeDataString(id)}", cancellationToken);

    // The most of Herald's own words an error's message carries.
    private const int MaxSaid = 500;

    /// <summary>
    /// What an error answer said, when it is Herald's error shape (its <c>message</c> list, cut to
    /// <see cref="MaxSaid"/> characters); nothing of any other answer: a proxy's or a load
    /// balancer's page may hold anything, and the message goes to logs.
    /// </summary>
    private static string HeraldSaid(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("statusCode", out var status) && status.ValueKind == JsonValueKind.Number
                && root.TryGetProperty("message", out var messages) && messages.ValueKind == JsonValueKind.Array
                && messages.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String))
            {
                var said = string.Join("; ", messages.EnumerateArray().Select(m => m.GetString()));
                return ": " + (said.Length > MaxSaid ? said[..MaxSaid] + "…" : said);
            }
        }
        catch (JsonException)
        {
        }
        return body.Length == 0 ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $" (an answer of {body.Length:N0} bytes not in Herald's error shape, not quoted)");
    }

    private async Task<JsonObject> GetAsync(string path, CancellationToken cancellationToken)
    {
        // Herald may sit under a path (https://example.com/herald): the base is read as a folder,
        // with or without its trailing slash, not as a file whose last segment a relative path replaces.
        var baseAddress = _http.BaseAddress ?? throw new InvalidOperationException("the HttpClient needs its BaseAddress set to Herald's address");
        var root = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var said = HeraldSaid(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            throw new HttpRequestException($"Herald answered {(int)response.StatusCode} to GET {path}{said}", null, response.StatusCode);
        }
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Read whole now, as a notification's body is: an answer the models cannot read fails
            // here, as a JsonException, rather than later in a model or the caller's own look-ups.
            return HeraldEventParser.ReadObject(body);
        }
        catch (JsonException e)
        {
            throw new JsonException($"Herald's answer to GET {path} is no JSON object the kit can read: {e.Message}", e);
        }
    }
}
