using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// Herald on one database: N changes recorded by concurrent recorders and delivered to the
/// receiver (delivered/s from the first record to the last receipt), then record-to-receipt
/// latency at a steady offered load, and the process's peak RSS.
/// </summary>
internal static class HeraldScenario
{
    public const int Recorders = 32;
    public const int OfferedPerSecond = 1_000;

    public static async Task<JsonObject> RunAsync(string? postgresAdmin, int changes, TimeSpan limit, TimeSpan latencyDuration, TimeSpan warmUp)
    {
        var name = postgresAdmin is null ? "sqlite" : "postgres";
        await using var receiver = await CountingReceiver.StartAsync();
        await using var herald = await InProcessHerald.StartAsync(postgresAdmin, receiver.Url);
        await using var sampler = new RssSampler();
        var result = new JsonObject { ["changes_asked"] = changes, ["recorders"] = Recorders };
        Load.Merge(result, await Load.WarmUpAsync(receiver, warmUp, changes / 2, Recorders, _ => herald.RecordAsync()));
        sampler.Reset();

        // Throughput: recording and delivery overlap, as they do in production.
        using var writer = new WriterStats();
        var cpu = CpuMeter.Start();
        var serverMeter = postgresAdmin is null ? null : await ServerMeter.StartAsync(postgresAdmin);
        var start = receiver.Now;
        var recorded = await Load.RunAsync(changes, Recorders, limit, _ => herald.RecordAsync());
        var recordSeconds = (receiver.Now - start).TotalSeconds;
        var left = limit - (receiver.Now - start);
        var complete = await Load.WaitForReceiptsAsync(receiver, recorded, left > TimeSpan.Zero ? left : TimeSpan.Zero);
        var delivered = receiver.FirstSeen.Count;
        var seconds = delivered == 0 ? double.NaN : (Load.LastReceipt(receiver) - start).TotalSeconds;
        var perSecond = seconds > 0 ? delivered / seconds : 0;
        cpu.Report(result, delivered);
        if (serverMeter is not null)
        {
            await serverMeter.ReportAsync(result, delivered);
        }
        Console.WriteLine($"{name}: recorded {recorded} in {recordSeconds:F1} s; delivered {delivered} in {seconds:F1} s = {perSecond:F0}/s{(complete ? "" : " (time limit reached)")}");
        result["changes"] = recorded;
        result["delivered"] = delivered;
        result["complete"] = complete;
        result["record_seconds"] = Load.Round(recordSeconds, 2);
        result["recorded_per_second"] = Load.Rate(recorded, recordSeconds);
        result["seconds"] = Load.Round(seconds, 2);
        result["delivered_per_second"] = Load.Rate(delivered, seconds);
        result["requests"] = receiver.Requests;
        result["mean_body_bytes"] = Load.Round(receiver.Requests == 0 ? double.NaN : (double)receiver.Bytes / receiver.Requests);
        result["peak_rss_mb_throughput"] = Load.Round(sampler.MaxMb);
        var (writes, itemsPerWrite, meanMs, busy) = writer.Figures(seconds);
        Console.WriteLine($"{name}: {writes} transactions of {itemsPerWrite:F1} changes and outcomes, {meanMs:F2} ms each, {busy:P0} of the run");
        result["writes"] = writes;
        result["items_per_write"] = Load.Round(itemsPerWrite, 1);
        result["write_ms"] = Load.Round(meanMs, 2);
        result["write_busy_share"] = Load.Round(busy, 2);

        // Latency is measured in a steady state: what the throughput phase left pending is let
        // arrive first (for a bounded time; what is still pending then is reported with the figures).
        await Load.WaitForReceiptsAsync(receiver, recorded, Settle(latencyDuration));
        result["latency_started_with_pending"] = recorded - receiver.FirstSeen.Count;

        // Latency: an open-loop offered load, one record due every millisecond whatever the
        // earlier ones are doing, timed from when each record was due to its first receipt.
        receiver.Reset();
        sampler.Reset();
        var latency = await MeasureLatencyAsync(herald, receiver, latencyDuration);
        Load.Merge(result, latency);
        Console.WriteLine($"{name}: latency at {OfferedPerSecond}/s: p50 {latency["p50_ms"]} ms, p99 {latency["p99_ms"]} ms, max {latency["max_ms"]} ms");
        result["peak_rss_mb_latency"] = Load.Round(sampler.MaxMb);
        result["peak_rss_mb"] = Load.Round(Memory.PeakRssMb());
        return result;
    }

    /// <summary>How long the throughput phase's leftovers may take to arrive before latency is measured.</summary>
    private static TimeSpan Settle(TimeSpan latencyDuration) => latencyDuration * 2 > TimeSpan.FromSeconds(10) ? latencyDuration * 2 : TimeSpan.FromSeconds(10);

    private static async Task<JsonObject> MeasureLatencyAsync(InProcessHerald herald, CountingReceiver receiver, TimeSpan duration)
    {
        var total = (int)(duration.TotalSeconds * OfferedPerSecond);
        var recordedAt = new ConcurrentDictionary<string, TimeSpan>(StringComparer.Ordinal);
        var dropped = new ConcurrentBag<TimeSpan>();
        var running = new List<Task>(total);
        // As many records in flight as the throughput phase's recorders; a record that has to wait
        // for a free one is still timed from when it was due, so a slow node is not flattered.
        using var inFlight = new SemaphoreSlim(Recorders, Recorders);
        var failures = 0;
        var start = receiver.Now;
        // Records that could not even start by then are counted, not waited for.
        var recordDeadline = start + duration + TimeSpan.FromSeconds(2);
        var clock = Stopwatch.StartNew();
        var launched = 0;
        while (launched < total && clock.Elapsed < duration + TimeSpan.FromSeconds(2))
        {
            var due = Math.Min(total, (int)(clock.Elapsed.TotalSeconds * OfferedPerSecond) + 1);
            for (; launched < due; launched++)
            {
                var scheduled = start + TimeSpan.FromSeconds((double)launched / OfferedPerSecond);
                running.Add(Task.Run(async () =>
                {
                    var wait = recordDeadline - receiver.Now;
                    if (wait <= TimeSpan.Zero || !await inFlight.WaitAsync(wait))
                    {
                        dropped.Add(scheduled);
                        return;
                    }
                    try
                    {
                        recordedAt[await herald.RecordAsync()] = scheduled;
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref failures);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }));
            }
            await Task.Delay(1);
        }
        var offeredSeconds = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(running);
        await Load.WaitForReceiptsAsync(receiver, recordedAt.Count, duration);
        // What has not arrived by now (or was never recorded) counts with the time it has waited so
        // far: the quantiles are then lower bounds, and say so, rather than leaving the slowest out.
        var end = receiver.Now;
        var latencies = new List<double>(launched);
        var received = 0;
        foreach (var (id, at) in recordedAt)
        {
            if (receiver.FirstSeen.TryGetValue(id, out var receipt))
            {
                latencies.Add((receipt - at).TotalMilliseconds);
                received++;
            }
            else
            {
                latencies.Add((end - at).TotalMilliseconds);
            }
        }
        latencies.AddRange(dropped.Select(at => (end - at).TotalMilliseconds));
        latencies.Sort();
        return new JsonObject
        {
            ["latency_offered"] = launched,
            ["latency_offered_per_second"] = Load.Rate(launched, offeredSeconds),
            ["latency_recorded"] = recordedAt.Count,
            ["latency_not_recorded"] = dropped.Count,
            ["latency_received"] = received,
            ["latency_record_failures"] = failures,
            ["latency_lower_bound"] = received < launched,
            ["p50_ms"] = Load.Round(Load.Quantile(latencies, 0.50)),
            ["p99_ms"] = Load.Round(Load.Quantile(latencies, 0.99)),
            ["max_ms"] = Load.Round(latencies.Count == 0 ? double.NaN : latencies[^1]),
        };
    }
}
