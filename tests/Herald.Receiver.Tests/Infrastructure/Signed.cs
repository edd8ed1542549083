using System.Globalization;
using System.Text;
using Herald.Signing;

namespace Herald.Receiver.Tests.Infrastructure;

/// <summary>Requests signed the way Herald signs them.</summary>
public static class Signed
{
    public const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /// <summary>Receiver options taking <see cref="Secret"/>, whose client reads Herald's API through <paramref name="api"/>.</summary>
    public static HeraldWebhookOptions OptionsWithApi(HttpMessageHandler api)
    {
        var options = new HeraldWebhookOptions { Client = new HeraldClient(new HttpClient(api) { BaseAddress = new Uri("http://herald.test") }, "hk_test") };
        options.Secrets.Add(Secret);
        return options;
    }

    public static HttpRequestMessage Request(string webhookId, string body, DateTimeOffset at, string path = "/webhooks")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var timestamp = at.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(bytes) };
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(Secret, webhookId, timestamp, bytes));
        return request;
    }

    public const string Transaction = """{"internalId":"t-1","status":"COMPLETED","paymentAmount":130,"currency":"BRL"}""";
}
