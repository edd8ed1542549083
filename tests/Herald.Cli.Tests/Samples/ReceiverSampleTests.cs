using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Cli.Tests.Samples;

/// <summary>
/// The receivers in samples/receivers (Python and Node.js, no packages), run as a merchant would run
/// them, against a real node: they verify what Herald sends, handle each webhook-id once, and refuse
/// a request Herald did not sign.
/// </summary>
public sealed class ReceiverSampleTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "herald-samples-" + Guid.NewGuid().ToString("N"));
    private HeraldProcess _herald = null!;
    private HttpClient _merchant = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldProcess.ServeAsync("--dev", "--data", _data);
        (_merchant, _) = await _herald.NewMerchantAsync("Shop");
    }

    public async Task DisposeAsync()
    {
        _merchant.Dispose();
        await _herald.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    internal static string SamplePath(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "receivers", file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"samples/receivers/{file} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A sample's process, its standard output and error gathered as they come.</summary>
    internal sealed class Sample : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public Sample(string runtime, IEnumerable<string> args, string? secret = null)
        {
            var info = new ProcessStartInfo(runtime) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            if (secret is not null)
            {
                info.Environment["HERALD_WEBHOOK_SECRET"] = secret;
            }
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
            _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public async Task<int> ExitAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }

        /// <summary>Waits until the output holds <paramref name="text"/> <paramref name="times"/> times.</summary>
        public async Task WaitForAsync(string text, int times = 1)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Occurrences(Output, text) < times)
            {
                Assert.False(_process.HasExited && Occurrences(Output, text) < times, $"the sample exited: {Output}");
                Assert.True(DateTime.UtcNow < deadline, $"'{text}' not {times} times in: {Output}");
                await Task.Delay(100);
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
    }

    [Theory]
    [InlineData("python3", "receiver.py")]
    [InlineData("node", "receiver.js")]
    public async Task ASampleReceiver_VerifiesWhatHeraldSends_HandlesEachWebhookIdOnce_AndRefusesAForgery(string runtime, string file)
    {
        var path = SamplePath(file);
        // Its own check of the signature docs/receiver.md gives as a test vector.
        using (var selfTest = new Sample(runtime, [path, "--self-test"]))
        {
            Assert.Equal(0, await selfTest.ExitAsync());
            Assert.Contains("self-test passed", selfTest.Output, StringComparison.Ordinal);
        }

        var port = HeraldProcess.FreePort();
        var created = await _merchant.PostAsJsonAsync("/v1/endpoints", new { url = $"http://127.0.0.1:{port}/webhooks", format = "transaction" });
        created.EnsureSuccessStatusCode();
        var endpoint = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        using var receiver = new Sample(runtime, [path, port.ToString(System.Globalization.CultureInfo.InvariantCulture)], endpoint["secret"]!.GetValue<string>());
        await receiver.WaitForAsync("listening on");

        var transaction = await (await _merchant.PostAsJsonAsync("/v1/transactions", new
        {
            paymentAmount = 130,
            currency = "BRL",
            country = "BR",
            merchantReference = "orde123",
        })).Content.ReadFromJsonAsync<JsonObject>();
        var id = transaction!["internalId"]!.GetValue<string>();
        (await _merchant.PostAsJsonAsync($"/v1/transactions/{id}/transitions", new { to = "COMPLETED" })).EnsureSuccessStatusCode();

        var notifications = await NotificationsAsync(id, 2);
        var completed = notifications.Single(n => n["event_type"]!.GetValue<string>() == "TRANSACTION.COMPLETED");
        var eventId = completed["event_id"]!.GetValue<string>();
        await receiver.WaitForAsync($"verified {eventId} attempt=1 COMPLETED");

        // Sent again by hand: the same webhook-id, seen as handled already, still answered 200.
        (await _merchant.PostAsJsonAsync($"/v1/notifications/{completed["id"]!.GetValue<string>()}/resend", new { })).EnsureSuccessStatusCode();
        await receiver.WaitForAsync($"duplicate {eventId} attempt=2");

        // The same notification, signed as Herald signed it, sent again within the timestamp's
        // tolerance to another path, with a query or a trailing slash (none of which is signed): the
        // same webhook-id, answered 200 as a duplicate and not handled again.
        using var replayer = new HttpClient();
        var sent = await _merchant.GetFromJsonAsync<JsonObject>($"/v1/notifications/{completed["id"]!.GetValue<string>()}");
        var body = Encoding.UTF8.GetBytes(sent!["payload"]!.ToJsonString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSignature.Sign(endpoint["secret"]!.GetValue<string>(), eventId, now, body);
        foreach (var elsewhere in new[] { "/webhooks?r=1", "/webhooks/", "/x" })
        {
            using var replay = Notification(port, elsewhere, eventId, now, signature, body);
            Assert.Equal(HttpStatusCode.OK, (await replayer.SendAsync(replay)).StatusCode);
        }
        await receiver.WaitForAsync($"duplicate {eventId} attempt=1 (handled already)", times: 3);
        Assert.Equal(1, Occurrences(receiver.Output, $"verified {eventId} "));

        // An event type's example an endpoint's test sends: verified, not handled.
        var tested = await (await _merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint["id"]!.GetValue<string>()}/test", new { event_type = "TRANSACTION.REFUNDED" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(tested!["succeeded"]!.GetValue<bool>(), tested.ToJsonString());
        await receiver.WaitForAsync(" REFUNDED verified (not handled)");

        // What Herald did not sign is refused with 401.
        using var forged = Notification(port, "/webhooks", "evt_forged", DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            "v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34=", Encoding.UTF8.GetBytes("{\"status\":\"COMPLETED\"}"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await replayer.SendAsync(forged)).StatusCode);
        await receiver.WaitForAsync("rejected evt_forged");
        Assert.DoesNotContain("verified evt_forged", receiver.Output, StringComparison.Ordinal);
    }

    /// <summary>A notification as Herald sends one, to <paramref name="pathAndQuery"/> on the sample's port.</summary>
    internal static HttpRequestMessage Notification(int port, string pathAndQuery, string webhookId, long timestamp, string signature, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}{pathAndQuery}") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", webhookId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
        request.Headers.Add("webhook-attempt", "1");
        return request;
    }

    internal static int Occurrences(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>The entity's notifications once there are <paramref name="count"/> and all have succeeded.</summary>
    private async Task<List<JsonNode>> NotificationsAsync(string entityId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var page = await _merchant.GetFromJsonAsync<JsonObject>($"/v1/notifications?entity_id={entityId}");
            var data = page!["data"]!.AsArray().Select(n => n!).ToList();
            if (data.Count == count && data.All(n => n["status"]!.GetValue<string>() == "succeeded"))
            {
                return data;
            }
            Assert.True(DateTime.UtcNow < deadline, $"not delivered: {page}");
            await Task.Delay(200);
        }
    }
}
