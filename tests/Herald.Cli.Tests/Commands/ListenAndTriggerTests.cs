using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary><c>herald listen</c> and <c>herald trigger</c> against a live Herald, all real processes.</summary>
public sealed class ListenAndTriggerTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "herald-cli-" + Guid.NewGuid().ToString("N"));
    private HeraldProcess _herald = null!;
    private HttpClient _merchant = null!;
    private string _key = "";

    public async Task InitializeAsync()
    {
        _herald = await HeraldProcess.ServeAsync("--dev", "--data", _data);
        (_merchant, _key) = await _herald.NewMerchantAsync("Dev");
    }

    public async Task DisposeAsync()
    {
        _merchant.Dispose();
        await _herald.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    /// <summary>
    /// Adds an endpoint on a free port and starts <c>herald listen</c> there (with the endpoint's
    /// secret). A port found free can be taken before listen binds it: the endpoint then goes and
    /// both are made again on another port, a few times at most.
    /// </summary>
    private async Task<HeraldProcess> ListenAtNewEndpointAsync(string path, string format, Func<string, string[]> listenArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = HeraldProcess.FreePort();
            var response = await _merchant.PostAsJsonAsync("/v1/endpoints", new { url = $"http://127.0.0.1:{port}{path}", format });
            response.EnsureSuccessStatusCode();
            var endpoint = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            try
            {
                return await HeraldProcess.ListenAsync(port, listenArgs(endpoint["secret"]!.GetValue<string>()));
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.Ordinal))
            {
                (await _merchant.DeleteAsync($"/v1/endpoints/{endpoint["id"]!.GetValue<string>()}")).EnsureSuccessStatusCode();
            }
        }
    }

    [Fact]
    public async Task Trigger_WalksATransaction_AndListenPrintsEachVerifiedNotification_MarkingDuplicates()
    {
        await using var listen = await ListenAtNewEndpointAsync("/webhooks", "transaction", secret => ["--secret", secret]);

        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "transaction-completed", "--url", _herald.Url, "--key", _key);
        Assert.True(trigger.ExitCode == 0, trigger.Stderr);
        Assert.Contains("INIT → PROCESSING", trigger.Stdout, StringComparison.Ordinal);
        Assert.Contains("PROCESSING → COMPLETED", trigger.Stdout, StringComparison.Ordinal);

        await listen.WaitForOutputAsync("verified", 3);
        foreach (var type in new[] { "TRANSACTION.INIT", "TRANSACTION.PROCESSING", "TRANSACTION.COMPLETED" })
        {
            Assert.Contains(type, listen.Output, StringComparison.Ordinal);
        }
        Assert.Contains("\"paymentAmount\": 130", listen.Output, StringComparison.Ordinal);

        // A resend arrives with the same webhook-id: listen marks it.
        var list = await _merchant.GetFromJsonAsync<JsonObject>("/v1/notifications?event_type=TRANSACTION.COMPLETED");
        var id = list!["data"]![0]!["id"]!.GetValue<string>();
        (await _merchant.PostAsync($"/v1/notifications/{id}/resend", null)).EnsureSuccessStatusCode();
        await listen.WaitForOutputAsync("DUPLICATE");

        // Requests the secret did not sign get 401, printed with the reason.
        using var forged = new HttpClient();
        var response = await forged.PostAsync(listen.Url + "/webhooks", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await listen.WaitForOutputAsync("✗ missing webhook-id, webhook-timestamp, webhook-signature");
    }

    [Fact]
    public async Task EndpointTest_IsPrintedAsHeraldsTestNotification()
    {
        await using var listen = await ListenAtNewEndpointAsync("/tested", "transaction", secret => ["--secret", secret]);
        var endpoints = (await _merchant.GetFromJsonAsync<JsonObject>("/v1/endpoints"))!["data"]!.AsArray();
        var endpoint = endpoints.Single(e => e!["url"]!.GetValue<string>() == listen.Url + "/tested")!["id"]!.GetValue<string>();

        var test = await _merchant.PostAsync($"/v1/endpoints/{endpoint}/test", null);
        test.EnsureSuccessStatusCode();
        Assert.True((await test.Content.ReadFromJsonAsync<JsonObject>())!["succeeded"]!.GetValue<bool>());
        await listen.WaitForOutputAsync("HERALD.TEST (Herald's test notification)");
        Assert.Contains("verified", listen.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("not a Herald payload", listen.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("(an example an endpoint's test sent)", listen.Output, StringComparison.Ordinal);

        // An event type's example is printed as what it is, told by its signed evt_test_ id.
        var example = await _merchant.PostAsJsonAsync($"/v1/endpoints/{endpoint}/test", new { event_type = "TRANSACTION.COMPLETED" });
        example.EnsureSuccessStatusCode();
        await listen.WaitForOutputAsync("TRANSACTION.COMPLETED (an example an endpoint's test sent) webhook-id=evt_test_");
    }

    /// <summary>
    /// What listen answers that Herald counts as a failure (any 500; a 204 to a transaction's
    /// endpoint, whose format takes only 200, seed 003) is recorded as a failed attempt, and the
    /// notification sent again is a retry of what listen never accepted, not a duplicate.
    /// </summary>
    [Theory]
    [InlineData("thin", "order-refunded", "PAYMENT_ORDER.REFUNDED", 500)]
    [InlineData("transaction", "transaction-expired", "TRANSACTION.EXPIRED", 204)]
    public async Task ListenAnsweringAFailure_MakesHeraldRecordFailedAttempts_AndItsResendARetry(string format, string scenario, string eventType, int answer)
    {
        await using var listen = await ListenAtNewEndpointAsync("/hooks", format, _ => ["--answer", answer.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", scenario, "--url", _herald.Url, "--key", _key);
        Assert.True(trigger.ExitCode == 0, trigger.Stderr);
        await listen.WaitForOutputAsync(eventType);
        Assert.Contains($"→ {answer}", listen.Output, StringComparison.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonObject? n;
        do
        {
            await Task.Delay(200);
            n = (await _merchant.GetFromJsonAsync<JsonObject>($"/v1/notifications?event_type={eventType}"))!["data"]![0]!.AsObject();
        }
        while (n["last_status_code"] is null && DateTime.UtcNow < deadline);
        Assert.Equal(answer, n["last_status_code"]!.GetValue<int>());
        Assert.Equal("pending", n["status"]!.GetValue<string>());

        (await _merchant.PostAsync($"/v1/notifications/{n["id"]!.GetValue<string>()}/resend", null)).EnsureSuccessStatusCode();
        await listen.WaitForOutputAsync("RETRY (seen 2 times, not accepted before)");
        Assert.DoesNotContain("DUPLICATE", listen.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("intent-finished", "mla", "OPEN → FINISHED")]
    [InlineData("intent-canceled", "mlb", "OPEN → CANCELED")]
    public async Task Trigger_IntentScenarios_ForEachSite(string scenario, string site, string step)
    {
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", scenario, "--site", site, "--url", _herald.Url, "--key", _key);
        Assert.True(trigger.ExitCode == 0, trigger.Stderr);
        Assert.Contains(step, trigger.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_UnknownScenarioOrMissingKey_FailsWithAClearLine()
    {
        var unknown = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "nonsense", "--url", _herald.Url, "--key", _key);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("unknown scenario 'nonsense'", unknown.Stderr, StringComparison.Ordinal);
        var keyless = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "order-closed", "--url", _herald.Url);
        Assert.NotEqual(0, keyless.ExitCode);
        Assert.Contains("merchant API key", keyless.Stderr, StringComparison.Ordinal);
        var badUrl = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "order-closed", "--url", "not-a-url", "--key", _key);
        Assert.NotEqual(0, badUrl.ExitCode);
        Assert.Equal("herald: --url 'not-a-url' is not Herald's http:// or https:// address such as http://127.0.0.1:5080.", badUrl.Stderr.Trim());
        Assert.Empty(badUrl.Stdout);
        // A site is said wrong before anything is sent, and only intents take one.
        var before = (await _merchant.GetFromJsonAsync<JsonObject>("/v1/events?limit=100"))!["data"]!.AsArray().Count;
        var badSite = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "intent-finished", "--site", "xx", "--url", _herald.Url, "--key", _key);
        Assert.Equal(1, badSite.ExitCode);
        Assert.Equal("herald: --site 'xx' is not a Point site: mla, mlb, mlm.", badSite.Stderr.Trim());
        Assert.Empty(badSite.Stdout);
        var siteless = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "transaction-completed", "--site", "mlb", "--url", _herald.Url, "--key", _key);
        Assert.Equal(1, siteless.ExitCode);
        Assert.Equal("herald: --site is for the intent scenarios; transaction-completed walks a transaction", siteless.Stderr.Trim());
        Assert.Equal(before, (await _merchant.GetFromJsonAsync<JsonObject>("/v1/events?limit=100"))!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Trigger_WithAPreferenceForAScenarioThatMakesNoOrder_IsRefusedBeforeAnythingIsSent()
    {
        var before = (await _merchant.GetFromJsonAsync<JsonObject>("/v1/events?limit=100"))!["data"]!.AsArray().Count;
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "transaction-completed", "--preference", "pref_x", "--url", _herald.Url, "--key", _key);
        Assert.Equal(1, trigger.ExitCode);
        Assert.Equal("herald: --preference is for the order scenarios; transaction-completed walks a transaction", trigger.Stderr.Trim());
        Assert.Empty(trigger.Stdout);
        Assert.Equal(before, (await _merchant.GetFromJsonAsync<JsonObject>("/v1/events?limit=100"))!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Trigger_WithAnHttpsUrlToAPlainHttpNode_SaysWhyTheTlsConnectionFailed()
    {
        var https = "https://" + new Uri(_herald.Url).Authority;
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "order-closed", "--url", https, "--key", _key);
        Assert.Equal(1, trigger.ExitCode);
        var line = Assert.Single(trigger.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"herald: no TLS connection to {https}/: ", line, StringComparison.Ordinal);
        // The reason itself, not a pointer to an exception nobody is shown.
        Assert.DoesNotContain("inner exception", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_PointedAtAReceiverInsteadOfHerald_SaysSoInOneLine()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.ResponseBody = "ok";
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "order-closed", "--url", receiver.Url, "--key", _key);
        Assert.Equal(1, trigger.ExitCode);
        // The address asked named whole, as a --url with a path of its own would change it.
        Assert.Equal($"herald: POST {receiver.Url.TrimEnd('/')}/v1/payment_orders answered something other than JSON: does --url point at Herald?", trigger.Stderr.Trim());
    }

    [Fact]
    public async Task Trigger_PointedAtSomethingThatIsNoHttpServer_SaysSoInOneLine()
    {
        // A listener that answers a line of its own and hangs up, as a database or a mail server would.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        var answering = Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                using var client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(60));
                var stream = client.GetStream();
                _ = await stream.ReadAsync(new byte[4096]);
                await stream.WriteAsync("220 no http here\r\n"u8.ToArray());
            }
        });
        var trigger = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "trigger", "order-closed", "--url", url, "--key", _key);
        Assert.Equal(1, trigger.ExitCode);
        var line = Assert.Single(trigger.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith($"herald: {url}/ did not answer as an HTTP server does (", line, StringComparison.Ordinal);
        Assert.EndsWith("): does --url point at Herald?", line, StringComparison.Ordinal);
        listener.Stop();
        await Task.WhenAny(answering, Task.Delay(TimeSpan.FromSeconds(5)));
    }
}
