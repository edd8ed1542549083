using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Herald.Cli.Tests.Faults;

/// <summary>A node on its embedded SQLite database killed with SIGKILL while changes pour in, then started again on the same data folder.</summary>
public sealed class SqliteKillTests(ITestOutputHelper output)
{
    private const int Concurrency = 32;
    private const int KillAfter = 2_500;

    [Fact]
    public async Task KilledMidWrite_EveryAcknowledgedChangeIsThereAfterARestart_AndEveryOneIsDelivered()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-sqlite-kill-" + Guid.NewGuid().ToString("N"));
        string[] args = ["--dev", "--data", data, "--rate-limit", "0"];
        HeraldProcess? node = null;
        try
        {
            node = await HeraldProcess.ServeAsync(args);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HeraldProcess.AdminKey);
            var merchant = await (await http.PostAsJsonAsync(node.Url + "/v1/merchants", new { name = "Kill" })).Content.ReadFromJsonAsync<JsonObject>();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", merchant!["api_key"]!.GetValue<string>());
            (await http.PostAsJsonAsync(node.Url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).EnsureSuccessStatusCode();

            // Changes are recorded 32 at a time until the kill, which lands while the writer is busy
            // (it commits every millisecond or two under this load); a change counts as recorded
            // only once its 201 is in.
            var acknowledged = new ConcurrentBag<string>();
            var killed = 0;
            var url = node.Url;
            var dying = node;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
            {
                while (Volatile.Read(ref killed) == 0)
                {
                    try
                    {
                        using var response = await http.PostAsJsonAsync(url + "/v1/payment_orders", new { amount = 10, currency = "BRL" });
                        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
                        var order = await response.Content.ReadFromJsonAsync<JsonObject>();
                        acknowledged.Add(order!["id"]!.GetValue<string>());
                        if (acknowledged.Count >= KillAfter && Interlocked.Exchange(ref killed, 1) == 0)
                        {
                            dying.Kill();
                        }
                    }
                    catch (HttpRequestException) when (Volatile.Read(ref killed) == 1)
                    {
                    }
                }
            }));
            await node.DisposeAsync();
            var deliveredBeforeKill = receiver.Received.Count;

            node = await HeraldProcess.ServeAsync(args);
            var ids = acknowledged.ToList();
            output.WriteLine($"{ids.Count} changes acknowledged before the SIGKILL; {deliveredBeforeKill} requests had reached the endpoint");
            var missing = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) =>
            {
                using var response = await http.GetAsync($"{node.Url}/v1/payment_orders/{id}", ct);
                if (!response.IsSuccessStatusCode)
                {
                    missing.Add($"{id}: {(int)response.StatusCode}");
                }
            });
            Assert.Empty(missing);

            // Every acknowledged change reaches the endpoint, those the kill interrupted included.
            var undelivered = ids;
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (DateTime.UtcNow < deadline)
            {
                var bodies = string.Join('\n', receiver.Received.Select(r => r.Body));
                undelivered = ids.Where(id => !bodies.Contains(id, StringComparison.Ordinal)).ToList();
                if (undelivered.Count == 0)
                {
                    break;
                }
                await Task.Delay(500);
            }
            output.WriteLine($"{receiver.Received.Count} requests in all; {undelivered.Count} acknowledged changes never delivered");
            Assert.Empty(undelivered);
        }
        finally
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
