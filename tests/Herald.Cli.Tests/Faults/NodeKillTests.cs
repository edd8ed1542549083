using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Herald.Cli.Tests.Faults;

/// <summary>Three real nodes on one PostgreSQL database; one is killed with SIGKILL mid-run.</summary>
public sealed class NodeKillTests(ITestOutputHelper output)
{
    private const int Changes = 20_000;
    private const int KillAfter = 6_000;
    private const int Concurrency = 48;

    /// <summary>
    /// What one node may have sent without its outcome committed: its delivery slots (64), plus the
    /// answered attempts waiting for their commit once their slots went on to the next request (at
    /// most twice the slots). A kill loses those outcomes, and another node sends them again.
    /// </summary>
    private const int InFlightPerNode = 64 + 2 * 64;

    [Fact]
    public async Task ThreeNodes_OneKilledMidRun_EveryNotificationArrivesAndDuplicatesStayWithinWhatWasInFlight()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-fault-" + Guid.NewGuid().ToString("N"));
        var nodes = new List<HeraldProcess>();
        try
        {
            string[] Args(int i) => ["--dev", "--postgres", db.ConnectionString, "--data", Path.Combine(data, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), "--lease-seconds", "10", "--rate-limit", "0"];
            // The first node migrates the schema; the others find it ready. The load comes from one key,
            // faster than the default per-key API limit allows, so the nodes run without it.
            nodes.Add(await HeraldProcess.ServeAsync(Args(0)));
            nodes.AddRange(await Task.WhenAll(HeraldProcess.ServeAsync(Args(1)), HeraldProcess.ServeAsync(Args(2))));

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HeraldProcess.AdminKey);
            var merchant = await (await http.PostAsJsonAsync(nodes[0].Url + "/v1/merchants", new { name = "Load" })).Content.ReadFromJsonAsync<JsonObject>();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", merchant!["api_key"]!.GetValue<string>());
            (await http.PostAsJsonAsync(nodes[0].Url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).EnsureSuccessStatusCode();

            var killed = nodes[2];
            var recorded = 0;
            var next = -1;
            var failedCalls = 0;
            var stopwatch = Stopwatch.StartNew();
            var killedAt = TimeSpan.Zero;
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async worker =>
            {
                while (Interlocked.Increment(ref next) < Changes)
                {
                    var failure = "";
                    for (var attempt = 0; ; attempt++)
                    {
                        var node = nodes[(worker + attempt) % nodes.Count];
                        if (node == killed && killed.HasExited)
                        {
                            continue;
                        }
                        try
                        {
                            using var response = await http.PostAsJsonAsync(node.Url + "/v1/payment_orders", new { amount = 10, currency = "BRL" });
                            failure = $"{node.Url} answered {(int)response.StatusCode}";
                            if (response.IsSuccessStatusCode)
                            {
                                if (Interlocked.Increment(ref recorded) == KillAfter)
                                {
                                    killedAt = stopwatch.Elapsed;
                                    killed.Kill();
                                }
                                break;
                            }
                        }
                        catch (HttpRequestException e)
                        {
                            failure = e.Message;
                        }
                        catch (TaskCanceledException e)
                        {
                            failure = e.Message;
                        }
                        Interlocked.Increment(ref failedCalls);
                        Assert.True(attempt < 20, $"a change could not be recorded on any node: {failure}");
                    }
                }
            }));
            var recordedIn = stopwatch.Elapsed;

            // Everything recorded — including changes whose answer the kill swallowed — is in the database.
            var expected = await EventIdsAsync(db.ConnectionString);
            Assert.True(expected.Count >= Changes, $"only {expected.Count} notifications were recorded");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (receiver.Received.Select(r => r.Headers["webhook-id"]).Distinct().Count() < expected.Count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
            var deliveredIn = stopwatch.Elapsed;
            // What the killed node had sent but not recorded is sent again once its lease runs out
            // (a duplicate the receiver deduplicates), and only then recorded as delivered.
            while (await CountAsync(db.ConnectionString, "SELECT count(*) FROM notifications WHERE status <> 'succeeded'") > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
            await Task.Delay(500);

            var received = receiver.Received.Select(r => r.Headers["webhook-id"]).ToList();
            var distinct = received.ToHashSet(StringComparer.Ordinal);
            var missing = expected.Count(id => !distinct.Contains(id));
            var duplicates = received.Count - distinct.Count;
            output.WriteLine($"recorded {expected.Count} changes on 3 nodes in {recordedIn.TotalSeconds:F1} s ({failedCalls} calls failed over to another node); node 3 SIGKILLed at {killedAt.TotalSeconds:F1} s after {KillAfter} changes");
            output.WriteLine($"delivered {distinct.Count} distinct notifications ({received.Count} requests) by {deliveredIn.TotalSeconds:F1} s: {missing} missing, {duplicates} duplicates (bound: {InFlightPerNode} sent and not recorded on the killed node)");

            Assert.Equal(0, missing);
            Assert.InRange(duplicates, 0, InFlightPerNode);
            Assert.Equal(0, await CountAsync(db.ConnectionString, "SELECT count(*) FROM notifications WHERE status <> 'succeeded'"));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    private static async Task<List<string>> EventIdsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT event_id FROM notifications", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
