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

    // The most of Herald's own words an error's message carries, and the most of an error's body read for them.
    private const int MaxSaid = 500;
    private const int MaxErrorBody = 16 * 1024;

    /// <summary>
    /// What an error answer said, when it is Herald's error shape (its <c>message</c> list, cut to
    /// <see cref="MaxSaid"/> characters, control characters left out); nothing of any other answer:
    /// a proxy's or a load balancer's page may hold anything, and the message goes to logs.
    /// </summary>
    private static async Task<string> HeraldSaidAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxErrorBody + 1];
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return "";
            }
            if (read <= MaxErrorBody && Messages(buffer.AsSpan(0, read)) is { } said)
            {
                return ": " + said;
            }
            var size = content.Headers.ContentLength is { } length ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{length:N0} bytes") : "an answer";
            return $" (its body, {size}, is not in Herald's error shape, so it is not quoted)";
        }
    }

    private static string? Messages(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement is not { ValueKind: JsonValueKind.Object } root
                || !root.TryGetProperty("statusCode", out var status) || status.ValueKind != JsonValueKind.Number
                || !root.TryGetProperty("message", out var messages) || messages.ValueKind != JsonValueKind.Array
                || !messages.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String))
            {
                return null;
            }
            var said = new System.Text.StringBuilder();
            foreach (var message in messages.EnumerateArray())
            {
                if (said.Length > 0)
                {
                    said.Append("; ");
                }
                foreach (var c in message.GetString()!)
                {
                    said.Append(char.IsControl(c) ? ' ' : c);
                }
            }
            if (said.Length <= MaxSaid)
            {
                return said.ToString();
            }
            // Cut between characters, not inside a surrogate pair.
            var cut = char.IsHighSurrogate(said[MaxSaid - 1]) ? MaxSaid - 1 : MaxSaid;
            return said.ToString(0, cut) + "…";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON, or a text that is no Unicode (a lone surrogate escaped): not Herald's.
            return null;
        }
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
            var said = await HeraldSaidAsync(response.Content, cancellationToken).ConfigureAwait(false);
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
