using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// A backlog on SQLite: changes recorded while their endpoint is paused (down, as far as Herald
/// is concerned), the RSS while they sit pending, then the endpoint resumed and the drain timed.
/// </summary>
internal static class BacklogScenario
{
    public static async Task<JsonObject> RunAsync(int changes, TimeSpan recordLimit, TimeSpan pendingFor, TimeSpan drainLimit)
    {
        await using var receiver = await CountingReceiver.StartAsync();
        await using var herald = await InProcessHerald.StartAsync(null, receiver.Url);
        await using var sampler = new RssSampler();
        await herald.SetPausedAsync(true);

        var start = receiver.Now;
        var recorded = await Load.RunAsync(changes, HeraldScenario.Recorders, recordLimit, _ => herald.RecordAsync());
        var recordSeconds = (receiver.Now - start).TotalSeconds;
        Console.WriteLine($"backlog: recorded {recorded} of {changes} in {recordSeconds:F1} s with the endpoint paused");
        var peakWhileRecording = sampler.MaxMb;

        // Pending: nothing happens but the workers' polls; the RSS is what an idle node with this backlog holds.
        sampler.Reset();
        await Task.Delay(pendingFor);
        var (pending, _) = await herald.Store.QueueStatsAsync();
        var rssPending = sampler.MaxMb;
        Console.WriteLine($"backlog: {pending} pending, RSS {rssPending:F0} MB");

        sampler.Reset();
        var resumedAt = receiver.Now;
        await herald.SetPausedAsync(false);
        var complete = await Load.WaitForReceiptsAsync(receiver, recorded, drainLimit);
        var drained = receiver.FirstSeen.Count;
        var drainSeconds = ((complete ? Load.LastReceipt(receiver) : receiver.Now) - resumedAt).TotalSeconds;
        var rssDraining = sampler.MaxMb;
        Console.WriteLine($"backlog: drained {drained} of {recorded} in {drainSeconds:F1} s = {drained / drainSeconds:F0}/s{(complete ? "" : " (time limit reached)")}; peak RSS {rssDraining:F0} MB");
        return new JsonObject
        {
            ["changes_asked"] = changes,
            ["changes"] = recorded,
            ["record_seconds"] = Load.Round(recordSeconds, 2),
            ["recorded_per_second"] = Load.Rate(recorded, recordSeconds),
            ["pending"] = pending,
            ["peak_rss_mb_recording"] = Load.Round(peakWhileRecording),
            ["rss_mb_pending"] = Load.Round(rssPending),
            ["peak_rss_mb_draining"] = Load.Round(rssDraining),
            ["drained"] = drained,
            ["complete"] = complete,
            ["drain_seconds"] = Load.Round(drainSeconds, 2),
            ["drained_per_second"] = Load.Rate(drained, drainSeconds),
        };
    }
}
