using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Delivery.Recording;
using Herald.Delivery.Workers;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Ids;
using Herald.Retry;
using Herald.Signing;
using Herald.Storage.Model;
using Herald.Storage.Postgres;
using Npgsql;

namespace Herald.Bench;

/// <summary>
/// Delivered notifications per second with 1, 2 and 3 <c>herald serve</c> processes on one
/// PostgreSQL database: a backlog of N recorded changes is drained by the nodes, timed from the
/// first receipt to the last.
/// </summary>
internal static class ScalingBench
{
    /// <summary>The backlog the committed figures (bench/results/scaling.md) are taken with.</summary>
    public const int DefaultChanges = 20_000;

    /// <summary>
    /// The name of the files a run writes (.md and .json): scaling for the default backlog, the one
    /// docs/scaling.md quotes; a run of another size writes its own beside them.
    /// </summary>
    public static string ResultsName(int changes) =>
        changes == DefaultChanges ? "scaling" : string.Create(CultureInfo.InvariantCulture, $"scaling-{changes}");

    public static async Task<int> RunAsync(string adminConnectionString, string heraldDll, int changes, string resultsDirectory)
    {
        await using var receiver = await CountingReceiver.StartAsync();
        var rows = new List<(int Nodes, int Delivered, long Requests, double Seconds, double PerSecond)>();
        foreach (var nodes in new[] { 1, 2, 3 })
        {
            receiver.Reset();
            var database = $"herald_bench_{nodes}_{Guid.NewGuid():N}";
            await ExecuteAsync(adminConnectionString, $"CREATE DATABASE {database}");
            var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database, MaxPoolSize = 50 }.ConnectionString;
            try
            {
                await RecordBacklogAsync(connectionString, receiver.Url, changes);
                Console.WriteLine($"{nodes} node(s): {changes} changes recorded; starting nodes");
                var processes = Enumerable.Range(0, nodes).Select(_ => StartNode(heraldDll, connectionString)).ToList();
                try
                {
                    var deadline = Stopwatch.StartNew();
                    while (receiver.FirstSeen.Count < changes && deadline.Elapsed < TimeSpan.FromMinutes(5))
                    {
                        if (processes.Any(p => p.HasExited))
                        {
                            throw new InvalidOperationException("a node exited: " + await processes.First(p => p.HasExited).StandardError.ReadToEndAsync());
                        }
                        await Task.Delay(50);
                    }
                }
                finally
                {
                    foreach (var p in processes)
                    {
                        p.Kill(entireProcessTree: true);
                        await p.WaitForExitAsync();
                        p.Dispose();
                    }
                }
                var times = receiver.FirstSeen.Values.OrderBy(t => t).ToList();
                var seconds = times.Count > 1 ? (times[^1] - times[0]).TotalSeconds : double.NaN;
                rows.Add((nodes, times.Count, receiver.Requests, seconds, times.Count / seconds));
                Console.WriteLine($"{nodes} node(s): {times.Count} delivered in {seconds:F2} s = {times.Count / seconds:F0}/s");
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await ExecuteAsync(adminConnectionString, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }
        await WriteAsync(resultsDirectory, changes, rows);
        return rows.All(r => r.Delivered == changes) ? 0 : 1;
    }

    /// <summary>Records the backlog through the same recorder the API uses, with no workers running.</summary>
    private static async Task RecordBacklogAsync(string connectionString, string receiverUrl, int changes)
    {
        await using var store = new PostgresStore(connectionString);
        await store.MigrateAsync();
        var time = TimeProvider.System;
        var now = time.GetUtcNow();
        var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, time), "Bench", now);
        await store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant.Id, Guid.NewGuid().ToString("N"), now));
        await store.CreateEndpointAsync(new Endpoint
        {
            Id = HeraldId.New(HeraldId.Endpoint, time),
            MerchantId = merchant.Id,
            Url = receiverUrl,
            Format = PayloadFormat.Thin,
            Success = SuccessRule.Any2xx,
            Retry = RetryPolicy.Exponential,
            TimeoutSeconds = 15,
            Source = EndpointSources.Api,
            CreatedAt = now,
            UpdatedAt = now,
            Secrets = [WebhookSignature.NewSecret()],
        });
        await using var writer = new StoreWriter(store);
        var recorder = new ChangeRecorder(store, writer, time);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < changes)
            {
                var id = HeraldId.NewOpaque(time);
                await recorder.CreateAsync(merchant.Id, EntityKind.PaymentOrder, id, new JsonObject
                {
                    ["id"] = id,
                    ["amount"] = 10,
                    ["currency"] = "BRL",
                    ["status"] = null,
                }, null, CancellationToken.None);
            }
        }));
    }

    private static Process StartNode(string heraldDll, string connectionString)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = false,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(heraldDll);
        foreach (var arg in new[] { "serve", "--dev", "--urls", $"http://127.0.0.1:{FreePort()}", "--postgres", connectionString, "--data", Path.Combine(Path.GetTempPath(), "herald-bench-" + Guid.NewGuid().ToString("N")) })
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["HERALD_ADMIN_KEY"] = "hk_admin_bench_0123456789";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        return Process.Start(info)!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task WriteAsync(string directory, int changes, List<(int Nodes, int Delivered, long Requests, double Seconds, double PerSecond)> rows)
    {
        var md = new StringBuilder();
        md.AppendLine("# Scaling: delivered notifications per second with 1, 2 and 3 nodes on one PostgreSQL");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Taken {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores by `./herald bench scaling`: {changes} payment-order changes are recorded first (thin format, one endpoint), then 1, 2 or 3 `herald serve` processes drain them to a Kestrel receiver on loopback. Time runs from the first receipt to the last. Nodes, database and receiver share the same machine.");
        md.AppendLine();
        md.AppendLine("| nodes | delivered | requests | seconds | delivered/s |");
        md.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Nodes} | {r.Delivered} | {r.Requests} | {r.Seconds:F2} | {r.PerSecond:F0} |");
        }
        var json = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
        {
            ["nodes"] = r.Nodes,
            ["delivered"] = r.Delivered,
            ["requests"] = r.Requests,
            ["seconds"] = Math.Round(r.Seconds, 3),
            ["delivered_per_second"] = Math.Round(r.PerSecond, 1),
        }).ToArray());
        var written = await ResultFiles.WriteAsync(directory, ResultsName(changes), md.ToString(), json);
        Console.WriteLine(md);
        Console.WriteLine($"written to {written}.md and .json");
    }
}
