using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>The machine's limit: a bare HttpClient posting the 600-byte body to the receiver at concurrency 64.</summary>
internal static class RawLimit
{
    public const int Concurrency = 64;

    public static async Task<JsonObject> RunAsync(TimeSpan duration, TimeSpan warmUp)
    {
        await using var receiver = await CountingReceiver.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) });
        var uri = new Uri(receiver.Url);
        var body = BenchPayload.Body;
        long sequence = 0;
        // The same warm-up as every contender gets (at least a second): requests before it are not counted.
        warmUp = warmUp > TimeSpan.FromSeconds(1) ? warmUp : TimeSpan.FromSeconds(1);
        var total = warmUp + duration;
        var clock = Stopwatch.StartNew();
        long counted = 0;
        CpuMeter? cpu = null;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < total)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("webhook-id", "raw_" + Interlocked.Increment(ref sequence));
                using var response = await client.SendAsync(request);
                response.EnsureSuccessStatusCode();
                var at = clock.Elapsed;
                if (at >= warmUp && at < total)
                {
                    // Metered from the first request counted.
                    if (Volatile.Read(ref cpu) is null)
                    {
                        Interlocked.CompareExchange(ref cpu, CpuMeter.Start(), null);
                    }
                    Interlocked.Increment(ref counted);
                }
            }
        })));
        var perSecond = counted / duration.TotalSeconds;
        Console.WriteLine($"raw: {counted} requests in {duration.TotalSeconds:F0} s = {perSecond:F0}/s");
        var result = new JsonObject
        {
            ["requests"] = counted,
            ["seconds"] = duration.TotalSeconds,
            ["requests_per_second"] = Math.Round(perSecond, 1),
            ["body_bytes"] = body.Length,
            ["concurrency"] = Concurrency,
            ["warm_up_seconds"] = warmUp.TotalSeconds,
        };
        // The requests still in flight when the clock stopped are paid for and not counted: a few
        // dozen out of hundreds of thousands.
        cpu?.Report(result, counted);
        return result;
    }
}
