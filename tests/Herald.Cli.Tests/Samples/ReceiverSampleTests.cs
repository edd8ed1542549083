using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;

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

    private static string SamplePath(string file)
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
    private sealed class Sample : IDisposable
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

        public async Task WaitForAsync(string text)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.False(_process.HasExited && !Output.Contains(text, StringComparison.Ordinal), $"the sample exited: {Output}");
                Assert.True(DateTime.UtcNow < deadline, $"'{text}' not in: {Output}");
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

        // An event type's example an endpoint's test sends: verified, not handled.
        var tested = await (await _merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint["id"]!.GetValue<string>()}/test", new { event_type = "TRANSACTION.REFUNDED" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(tested!["succeeded"]!.GetValue<bool>(), tested.ToJsonString());
        await receiver.WaitForAsync(" REFUNDED verified (not handled)");

        // What Herald did not sign is refused with 401.
        using var forger = new HttpClient();
        using var forged = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/webhooks")
        {
            Content = new StringContent("{\"status\":\"COMPLETED\"}", Encoding.UTF8, "application/json"),
        };
        forged.Headers.Add("webhook-id", "evt_forged");
        forged.Headers.Add("webhook-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        forged.Headers.Add("webhook-signature", "v1,EqT05f7lOJAVOlrLkx/VKj4tIJmN+lpmlkCLYkclr34=");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forger.SendAsync(forged)).StatusCode);
        await receiver.WaitForAsync("rejected evt_forged");
        Assert.DoesNotContain("verified evt_forged", receiver.Output, StringComparison.Ordinal);
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
