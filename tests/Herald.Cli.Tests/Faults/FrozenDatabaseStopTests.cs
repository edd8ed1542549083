using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Faults;

/// <summary>
/// A node told to stop (SIGTERM) while its PostgreSQL server is frozen (SIGSTOP: connections open,
/// nothing answered, as a hung server or a partition leaves them): it exits within its grace and a
/// bounded overrun, as a process manager expects, and what its last writes held is delivered by
/// the next node.
/// </summary>
public sealed class FrozenDatabaseStopTests
{
    private const int Grace = 3;

    /// <summary>How long past its grace a stopping node waits for its last writes (docs/scaling.md).</summary>
    private static readonly TimeSpan StopOverrun = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ANodeStoppedWhileItsDatabaseIsFrozen_ExitsInBoundedTime_AndTheNextNodeDeliversWhatItHeld()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-frozen-stop-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] Args(string name) => ["--dev", "--postgres", cluster.ConnectionString, "--data", Path.Combine(data, name),
                "--lease-seconds", "10", "--shutdown-grace-seconds", Grace.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            string[] ids;
            string key;
            await using (var node = await HeraldProcess.ServeAsync(Args("a")))
            {
                (var merchant, key) = await node.NewMerchantAsync("Frozen");
                using (merchant)
                {
                    (await merchant.PostAsJsonAsync("/v1/endpoints", new { url = receiver.Url, format = "transaction" })).EnsureSuccessStatusCode();
                    // Three attempts under way, held by the receiver, when the server freezes.
                    receiver.Hold();
                    ids = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
                    {
                        using var created = await merchant.PostAsJsonAsync("/v1/transactions", new { paymentAmount = 130, currency = "BRL", country = "BR" });
                        created.EnsureSuccessStatusCode();
                        return (await created.Content.ReadFromJsonAsync<JsonObject>())!["internalId"]!.GetValue<string>();
                    }));
                    await receiver.WaitForAsync(3);
                }
                await cluster.FreezeAsync();

                // The attempts are answered within the grace; their outcomes cannot be recorded.
                var stopping = Stopwatch.StartNew();
                var terminated = node.TerminateAsync(TimeSpan.FromSeconds(60));
                await Task.Delay(TimeSpan.FromSeconds(1));
                receiver.Release();
                var code = await terminated;
                Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(Grace) + StopOverrun + TimeSpan.FromSeconds(5),
                    $"stopped after {stopping.Elapsed}: {node.Output}");
                Assert.Equal(1, code);
                Assert.Contains("herald: stopped without its last writes", node.Output, StringComparison.Ordinal);
            }

            // Thawed: what the node had handed the server before it exited may still commit (the
            // outcomes, waiting in the server's sockets); what did not is sent again by the next
            // node once its leases run out. Either way each is delivered, and recorded so.
            await cluster.ThawAsync();
            await using var next = await HeraldProcess.ServeAsync(Args("b"));
            using var watcher = new HttpClient { BaseAddress = new Uri(next.Url) };
            watcher.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            foreach (var id in ids)
            {
                while ((await watcher.GetFromJsonAsync<JsonObject>($"/v1/notifications?entity_id={id}"))!["data"]![0]!["status"]!.GetValue<string>() != "succeeded")
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{id} not delivered: {next.Output}");
                    await Task.Delay(200);
                }
            }
            Assert.Equal(ids.Order(), receiver.Received.Select(r => JsonNode.Parse(r.Body)!["internalId"]!.GetValue<string>()).Distinct().Order());
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
