using System.Net;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>The options of <c>herald serve</c> reach the node: HTTPS and the API rate limit.</summary>
public sealed class ServeOptionsTests : IDisposable
{
    private readonly SelfSignedCertificate _certificate = new();

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Serve_WithJsonLogs_WritesEachLogAsOneJsonObjectALine()
    {
        await using var node = await HeraldProcess.ServeAsync(["--data", Path.Combine(_certificate.Folder, "json-logs"), "--log-format", "json"], "http", null,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" });
        await node.WaitForOutputAsync("Delivery workers started");
        var logs = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(logs);
        foreach (var line in logs)
        {
            var entry = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
            Assert.NotNull(entry["Timestamp"]);
            Assert.NotNull(entry["Category"]);
        }
        var started = logs.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).Single(l => l["Message"]!.GetValue<string>().StartsWith("Delivery workers started", StringComparison.Ordinal));
        Assert.Equal(64, started["State"]!["MaxConcurrency"]!.GetValue<int>());
    }

    [Fact]
    public async Task Serve_WithHttpsCertAndRateLimit_AnswersOverHttpsWithHsts_AndThrottlesAKey()
    {
        await using var node = await HeraldProcess.ServeAsync(
            ["--data", Path.Combine(_certificate.Folder, "data"), "--https-cert", _certificate.PemPath, "--https-key", _certificate.KeyPath, "--rate-limit", "2"],
            "https", address => _certificate.TrustingClient(address));
        using var client = _certificate.TrustingClient(new Uri(node.Url));

        var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("max-age=", health.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

        // A rate of 2/s with a burst of 4: ten calls at once cannot all pass.
        client.DefaultRequestHeaders.Authorization = new("Bearer", HeraldProcess.AdminKey);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ => (await client.GetAsync("/v1/notifications")).StatusCode));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }
}
