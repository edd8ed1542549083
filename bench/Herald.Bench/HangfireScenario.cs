using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.PostgreSql;
using Npgsql;

namespace Herald.Bench;

/// <summary>
/// The baseline a .NET team would reach for: Hangfire, one fire-and-forget job per notification,
/// each posting the same 600-byte body with a shared HttpClient to the same receiver.
/// </summary>
internal static class HangfireScenario
{
    /// <summary>Hangfire's own default worker count (five per core, at most 20): the baseline as a team would get it.</summary>
    public static int Workers { get; } = new BackgroundJobServerOptions().WorkerCount;

    public const int Enqueuers = 16;

    public static async Task<JsonObject> RunAsync(string? postgresAdmin, int jobs, TimeSpan limit, TimeSpan warmUp)
    {
        var name = postgresAdmin is null ? "hangfire-inmemory" : "hangfire-postgres";
        await using var receiver = await CountingReceiver.StartAsync();
        string? database = null;
        if (postgresAdmin is null)
        {
            GlobalConfiguration.Configuration.UseInMemoryStorage();
        }
        else
        {
            database = $"hangfire_bench_{Guid.NewGuid():N}";
            await InProcessHerald.ExecuteAsync(postgresAdmin, $"CREATE DATABASE {database}");
            var connectionString = new NpgsqlConnectionStringBuilder(postgresAdmin) { Database = database }.ConnectionString;
            GlobalConfiguration.Configuration.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions
            {
                PrepareSchemaIfNecessary = true,
                // A short poll, so Hangfire is not held back by its 15 s default; its long polling
                // (LISTEN/NOTIFY) measured slower here, so it stays off, as it is by default.
                EnableLongPolling = false,
                QueuePollInterval = TimeSpan.FromMilliseconds(200),
            });
        }
        HangfireDelivery.Url = new Uri(receiver.Url);
        // The storage (and, on PostgreSQL, its schema) is ready before the clock starts.
        using (JobStorage.Current.GetConnection())
        {
        }
        try
        {
            using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = Workers });
            var client = new BackgroundJobClient();
            // Warmed up as Herald is, with its own load.
            var warm = await Load.WarmUpAsync(receiver, warmUp, jobs / 2, Enqueuers, i =>
            {
                client.Enqueue(() => HangfireDelivery.PostAsync("hf_warm_" + i));
                return Task.CompletedTask;
            });
            // Resident memory over the measured phase, as Herald's rows give it (what the warm-up left included).
            await using var sampler = new RssSampler();
            var cpu = CpuMeter.Start();
            var serverMeter = postgresAdmin is null ? null : await ServerMeter.StartAsync(postgresAdmin);
            var start = receiver.Now;
            var enqueued = await Load.RunAsync(jobs, Enqueuers, limit, i =>
            {
                client.Enqueue(() => HangfireDelivery.PostAsync("hf_" + i));
                return Task.CompletedTask;
            });
            var enqueueSeconds = (receiver.Now - start).TotalSeconds;
            var left = limit - (receiver.Now - start);
            var complete = await Load.WaitForReceiptsAsync(receiver, enqueued, left > TimeSpan.Zero ? left : TimeSpan.Zero);
            var delivered = receiver.FirstSeen.Count;
            var seconds = delivered == 0 ? double.NaN : (Load.LastReceipt(receiver) - start).TotalSeconds;
            Console.WriteLine($"{name}: enqueued {enqueued} in {enqueueSeconds:F1} s; delivered {delivered} in {seconds:F1} s = {delivered / seconds:F0}/s{(complete ? "" : " (time limit reached)")}");
            var result = new JsonObject
            {
                ["jobs_asked"] = jobs,
                ["jobs"] = enqueued,
                ["delivered"] = delivered,
                ["complete"] = complete,
                ["enqueue_seconds"] = Load.Round(enqueueSeconds),
                ["seconds"] = Load.Round(seconds),
                ["delivered_per_second"] = Load.Rate(delivered, seconds),
                ["workers"] = Workers,
                ["peak_rss_mb"] = Load.Round(sampler.MaxMb),
            };
            Load.Merge(result, warm);
            cpu.Report(result, delivered);
            if (serverMeter is not null)
            {
                await serverMeter.ReportAsync(result, delivered);
            }
            return result;
        }
        finally
        {
            if (database is not null && postgresAdmin is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await InProcessHerald.ExecuteAsync(postgresAdmin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }
    }
}

/// <summary>The Hangfire job: one POST of the body; a non-2xx answer fails the job, so Hangfire retries it.</summary>
public static class HangfireDelivery
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) });

    internal static Uri Url { get; set; } = null!;

    public static async Task PostAsync(string webhookId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(BenchPayload.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", webhookId);
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
