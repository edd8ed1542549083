using System.Globalization;
using System.Net;
using System.Text;
using Herald.Cli.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Cli.Tests.Commands;

/// <summary><c>herald listen</c> on its own, sent requests by the test rather than by Herald.</summary>
public sealed class ListenTests
{
    private const string Body = """{"internalId":"t-1","status":"COMPLETED","paymentAmount":130}""";

    /// <summary>Starts listen with <paramref name="secret"/> on a free port, another one should that port be taken first.</summary>
    private static async Task<HeraldProcess> ListenAsync(string secret)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await HeraldProcess.ListenAsync(HeraldProcess.FreePort(), "--secret", secret);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<HttpStatusCode> SendAsync(string url, string secret, string id, DateTimeOffset at, string body = Body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var timestamp = at.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/webhooks") { Content = new ByteArrayContent(bytes) };
        request.Headers.Add(WebhookSignature.HeaderId, id);
        request.Headers.Add(WebhookSignature.HeaderTimestamp, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.HeaderSignature, WebhookSignature.Sign(secret, id, timestamp, bytes));
        using var client = new HttpClient();
        return (await client.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task RefusedRequests_ArePrintedWithTheRealReason_NotAsABadSignature()
    {
        var secret = WebhookSignature.NewSecret();
        await using var listen = await ListenAsync(secret);

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(listen.Url, secret, "evt_old", DateTimeOffset.UtcNow.AddMinutes(-10)));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(listen.Url, secret, "evt_ahead", DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(listen.Url, WebhookSignature.NewSecret(), "evt_other", DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(listen.Url, secret, "evt_good", DateTimeOffset.UtcNow));

        await listen.WaitForOutputAsync("TRANSACTION.COMPLETED webhook-id=evt_good");
        var output = listen.Output;
        // The skew in seconds, within a second or two of the ten minutes the tests' clock put it.
        Assert.Matches(@"✗ timestamp too old: 60\d s behind this machine's clock \(tolerance 300 s\) /webhooks webhook-id=evt_old → 401", output);
        Assert.Matches(@"✗ timestamp too new: (59\d|600) s ahead of this machine's clock \(tolerance 300 s\) /webhooks webhook-id=evt_ahead → 401", output);
        Assert.Contains("✗ no signature matches the configured secrets /webhooks webhook-id=evt_other → 401", output, StringComparison.Ordinal);
        Assert.DoesNotContain("bad signature", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperatorEvents_AreNamedAsHeraldsOwn_AndOtherJsonAsNotAHeraldPayload()
    {
        var secret = WebhookSignature.NewSecret();
        await using var listen = await ListenAsync(secret);

        foreach (var type in new[] { "endpoint.failing", "notification.dead", "endpoint.test" })
        {
            var body = $$$"""{"id":"evt_{{{type}}}","type":"{{{type}}}","created_at":"2026-12-05T08:00:00.000Z","data":{"endpoint_id":"ep_1"}}""";
            Assert.Equal(HttpStatusCode.OK, await SendAsync(listen.Url, secret, "evt_" + type, DateTimeOffset.UtcNow, body));
        }
        Assert.Equal(HttpStatusCode.OK, await SendAsync(listen.Url, secret, "evt_other", DateTimeOffset.UtcNow, """{"type":"invoice.paid"}"""));

        await listen.WaitForOutputAsync("webhook-id=evt_other");
        var output = listen.Output;
        Assert.Contains("endpoint.failing (Herald's operator event) webhook-id=evt_endpoint.failing", output, StringComparison.Ordinal);
        Assert.Contains("notification.dead (Herald's operator event) webhook-id=evt_notification.dead", output, StringComparison.Ordinal);
        Assert.Contains("endpoint.test (Herald's test notification, to an operator webhook) webhook-id=evt_endpoint.test", output, StringComparison.Ordinal);
        Assert.Contains("(not a Herald payload) webhook-id=evt_other", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFormatsBodyWithAFieldOfAnotherType_IsPrintedAsItCame_SayingWhatCouldNotBeRead()
    {
        var secret = WebhookSignature.NewSecret();
        await using var listen = await ListenAsync(secret);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(listen.Url, secret, "evt_odd", DateTimeOffset.UtcNow,
            """{"internalId":"t-1","status":"COMPLETED","paymentAmount":"lots"}"""));

        await listen.WaitForOutputAsync("webhook-id=evt_odd");
        var output = listen.Output;
        Assert.Contains("(not a Herald payload: ", output, StringComparison.Ordinal);
        Assert.Contains("$.paymentAmount", output, StringComparison.Ordinal);
        Assert.Contains("\"paymentAmount\":\"lots\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APlaceholderSecret_IsRefusedAtStart()
    {
        // A placeholder, and a text that decodes as base64 but is no endpoint's secret.
        foreach (var secret in new[] { "whsec_…", "notasecret" })
        {
            var run = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "listen", "--port",
                HeraldProcess.FreePort().ToString(CultureInfo.InvariantCulture), "--secret", secret);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("--secret is not a whsec_ secret", run.Stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(204)]
    [InlineData(304)]
    public async Task AnAnswerWithoutABody_IsTheStatusSent_NotA500(int status)
    {
        var secret = WebhookSignature.NewSecret();
        await using var listen = await HeraldProcess.ListenAsync(HeraldProcess.FreePort(), "--secret", secret,
            "--answer", status.ToString(CultureInfo.InvariantCulture));

        // A 204 (or 304) may carry no body: written one, the answer was a 500 while listen printed the status.
        Assert.Equal((HttpStatusCode)status, await SendAsync(listen.Url, secret, "evt_empty", DateTimeOffset.UtcNow));
        await listen.WaitForOutputAsync($"webhook-id=evt_empty attempt=? verified → {status}");
    }

    [Theory]
    [InlineData("99", "--answer must be an HTTP status between 200 and 599.")]
    [InlineData("101", "--answer must be an HTTP status between 200 and 599.")]
    [InlineData("600", "--answer must be an HTTP status between 200 and 599.")]
    public async Task AnAnswerThatIsNoFinalStatus_IsRefusedInOneLine(string answer, string message)
    {
        // A 1xx is an interim answer, never a final one: listen could not send it.
        var run = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "listen", "--port",
            HeraldProcess.FreePort().ToString(CultureInfo.InvariantCulture), "--answer", answer);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("herald: " + message, run.Stderr.Trim());
        Assert.Empty(run.Stdout);
    }

    [Theory]
    [InlineData("99999", "--port must be between 1 and 65535.")]
    [InlineData("-1", "--port must be between 1 and 65535.")]
    [InlineData("abc", "--port must be a whole number, not 'abc'.")]
    public async Task APortOutOfRange_IsRefusedInOneLine(string port, string message)
    {
        var run = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "listen", "--port", port);
        Assert.NotEqual(0, run.ExitCode);
        // The line alone: no help after it, no stack trace.
        Assert.Equal("herald: " + message, run.Stderr.Trim());
        Assert.Empty(run.Stdout);
    }
}
