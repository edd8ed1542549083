using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>The loops every scenario shares, each bounded in count and in time.</summary>
internal static class Load
{
    /// <summary>Runs <paramref name="work"/> up to <paramref name="count"/> times on <paramref name="concurrency"/> loops, stopping at <paramref name="limit"/>; returns how many ran.</summary>
    public static async Task<int> RunAsync(int count, int concurrency, TimeSpan limit, Func<int, Task> work)
    {
        var clock = Stopwatch.StartNew();
        var next = -1;
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while (clock.Elapsed < limit && (i = Interlocked.Increment(ref next)) < count)
            {
                await work(i);
                Interlocked.Increment(ref done);
            }
        })));
        return done;
    }

    /// <summary>How long past its load a warm-up's deliveries may take to arrive.</summary>
    public static readonly TimeSpan WarmUpDrainLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Warms a contender up with its own load before the clock starts: <paramref name="work"/> runs
    /// as the measured phase runs it, for <paramref name="duration"/> (and at most
    /// <paramref name="maxCount"/> times; at least once, so that one item has gone through end to
    /// end), and what it sent is let arrive (for a bounded time). A freshly started .NET process
    /// compiles its hot code again, optimized, over its first seconds of load; every contender is
    /// measured once that is over, as a node that has been running is. Answers what was done; the
    /// receiver starts the measured phase empty. Fails when what the warm-up sent has not all
    /// arrived by <see cref="WarmUpDrainLimit"/> past its duration.
    /// </summary>
    public static async Task<JsonObject> WarmUpAsync(CountingReceiver receiver, TimeSpan duration, int maxCount, int concurrency, Func<int, Task> work)
    {
        var clock = Stopwatch.StartNew();
        var done = await RunAsync(maxCount, concurrency, duration, work);
        if (done == 0)
        {
            await work(0);
            done = 1;
        }
        if (!await WaitForReceiptsAsync(receiver, done, duration + WarmUpDrainLimit))
        {
            // What arrived later would be counted with the measured phase's deliveries.
            throw new InvalidOperationException($"the warm-up's {done} deliveries had not all arrived {(duration + WarmUpDrainLimit).TotalSeconds:F0} s after it ended");
        }
        receiver.Reset();
        return new JsonObject
        {
            ["warm_up_items"] = done,
            ["warm_up_seconds"] = Round(clock.Elapsed.TotalSeconds),
        };
    }

    /// <summary>Copies every figure of <paramref name="from"/> into <paramref name="into"/>.</summary>
    public static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (key, value) in from)
        {
            into[key] = value?.DeepClone();
        }
    }

    /// <summary>Waits until the receiver has seen <paramref name="expected"/> webhook-ids or <paramref name="limit"/> passes; true when all arrived.</summary>
    public static async Task<bool> WaitForReceiptsAsync(CountingReceiver receiver, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (receiver.FirstSeen.Count < expected)
        {
            if (clock.Elapsed >= limit)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>The last receipt the receiver noted, on its clock.</summary>
    public static TimeSpan LastReceipt(CountingReceiver receiver) =>
        receiver.FirstSeen.IsEmpty ? TimeSpan.Zero : receiver.FirstSeen.Values.Max();

    /// <summary>The q-quantile (0..1) of sorted values, nearest rank.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>A figure for the results, rounded; null where there is none (JSON has no NaN).</summary>
    public static JsonNode? Round(double value, int digits = 1) =>
        double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;

    /// <summary>Count per second, or null when no time passed.</summary>
    public static JsonNode? Rate(long count, double seconds) => seconds > 0 ? Round(count / seconds) : null;
}
