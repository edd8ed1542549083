using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>A node started with OTEL_EXPORTER_OTLP_ENDPOINT, as an operator starts one.</summary>
public sealed class TraceExportTests
{
    private const string Trouble = "Traces are not reaching the OpenTelemetry collector";

    private static Dictionary<string, string> Otlp(string endpoint) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // Exported every 100 ms rather than every 5 s.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2000",
    };

    /// <summary>Runs <paramref name="test"/> against a node started with <paramref name="environment"/>, its data folder removed after.</summary>
    private static async Task WithNodeAsync(IReadOnlyDictionary<string, string> environment, Func<HeraldProcess, Task> test)
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-otlp-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var node = await HeraldProcess.ServeAsync(["--dev", "--data", data], "http", null, environment);
            await test(node);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>A merchant with an endpoint at <paramref name="receiver"/>, and <paramref name="orders"/> payment orders recorded for it.</summary>
    private static async Task RecordOrdersAsync(HeraldProcess node, TestReceiver receiver, int orders)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HeraldProcess.AdminKey);
        var merchant = await (await http.PostAsJsonAsync(node.Url + "/v1/merchants", new { name = "Traced" })).Content.ReadFromJsonAsync<JsonObject>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", merchant!["api_key"]!.GetValue<string>());
        (await http.PostAsJsonAsync(node.Url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).EnsureSuccessStatusCode();
        for (var i = 0; i < orders; i++)
        {
            (await http.PostAsJsonAsync(node.Url + "/v1/payment_orders", new { amount = 10, currency = "BRL" })).EnsureSuccessStatusCode();
        }
        await receiver.WaitForAsync(orders);
    }

    [Fact]
    public async Task EachChangeAndAttempt_ReachTheCollector_AsSpansOfHerald()
    {
        await using var collector = await TestReceiver.StartAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await WithNodeAsync(Otlp(new Uri(collector.Url).GetLeftPart(UriPartial.Authority)), async node =>
        {
            await RecordOrdersAsync(node, receiver, 1);

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!(collector.Received.Any(r => r.Body.Contains("herald.record", StringComparison.Ordinal))
                && collector.Received.Any(r => r.Body.Contains("herald.deliver", StringComparison.Ordinal))))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the collector got {collector.Received.Count} exports, without both spans; the node said: {node.Output}");
                await Task.Delay(100);
            }
            var export = collector.Received.First();
            Assert.Equal("/v1/traces", export.Path);
            Assert.Equal("application/x-protobuf", export.Headers["content-type"]);
            Assert.Contains("herald", export.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(Trouble, node.Output, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ACollectorNoOneAnswersAt_IsInTheLog_OnceAMinuteAndWithoutAStack()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var nowhere = $"http://127.0.0.1:{HeraldProcess.FreePort()}";
        await WithNodeAsync(Otlp(nowhere), async node =>
        {
            // Exports a tenth of a second apart, every one of them refused.
            await RecordOrdersAsync(node, receiver, 1);
            await node.WaitForOutputAsync(Trouble);
            for (var i = 0; i < 5; i++)
            {
                await RecordOrdersAsync(node, receiver, 1);
                await Task.Delay(200);
            }
            await Task.Delay(500);

            var lines = node.Output.Split('\n');
            var reports = lines.Where(l => l.Contains(Trouble, StringComparison.Ordinal)).ToList();
            var report = reports[0];
            Assert.Contains(nowhere.Replace("http://", "", StringComparison.Ordinal), report, StringComparison.Ordinal);
            Assert.Contains("Connection refused", report, StringComparison.Ordinal);
            // One a kind of trouble in the minute, however many exports failed; no stack trace under it.
            Assert.True(reports.Count <= 3, string.Join('\n', reports));
            Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at OpenTelemetry.", StringComparison.Ordinal));
        });
    }
}
