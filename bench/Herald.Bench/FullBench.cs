using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// <c>./herald bench [--quick]</c>: the machine's limit, Herald on SQLite and on PostgreSQL,
/// Hangfire on its in-memory and PostgreSQL storage, and a backlog, each in its own process,
/// then the targets as ratios of the same run.
/// </summary>
internal static class FullBench
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(90);

    public static async Task<int> RunAsync(BenchPlan plan, string postgresAdmin, string resultsDirectory)
    {
        var clock = Stopwatch.StartNew();
        var results = new JsonObject { ["load_average_before"] = LoadAverage() };
        Console.WriteLine($"herald bench ({plan.Mode}) on {Environment.ProcessorCount} cores");
        // The limit is measured before and after each Herald row, and each row's share is of the
        // two around it: the machine's speed drifts by tens of per cent within minutes.
        results[BenchReport.LimitBefore(BenchReport.HeraldRows[0].Key)] = await RawAsync(plan);
        foreach (var (database, _) in BenchReport.HeraldRows)
        {
            results[database] = await ChildProcess.RunAsync("herald-" + database, WarmUpLimit(plan) + plan.HeraldLimit + plan.Latency + Slack,
                Number(plan.Changes), Seconds(plan.HeraldLimit), Seconds(plan.Latency), Seconds(plan.WarmUp));
            results[BenchReport.LimitAfter(database)] = await RawAsync(plan);
        }
        results["hangfire_inmemory"] = await ChildProcess.RunAsync("hangfire-inmemory", WarmUpLimit(plan) + plan.HangfireLimit + Slack,
            Number(plan.HangfireInMemoryJobs), Seconds(plan.HangfireLimit), Seconds(plan.WarmUp));
        results["hangfire_postgres"] = await ChildProcess.RunAsync("hangfire-postgres", WarmUpLimit(plan) + plan.HangfireLimit + Slack,
            Number(plan.HangfirePostgresJobs), Seconds(plan.HangfireLimit), Seconds(plan.WarmUp));
        results["backlog"] = await ChildProcess.RunAsync("backlog", plan.BacklogRecordLimit + plan.BacklogPending + plan.BacklogDrainLimit + Slack,
            Number(plan.Backlog), Seconds(plan.BacklogRecordLimit), Seconds(plan.BacklogPending), Seconds(plan.BacklogDrainLimit));
        results["load_average_after"] = LoadAverage();
        var report = new BenchReport(plan, results, clock.Elapsed);
        var written = await report.WriteAsync(resultsDirectory);
        Console.WriteLine();
        Console.WriteLine(report.Markdown());
        Console.WriteLine($"written to {written}.md and .json");
        return results.Any(r => r.Value is JsonObject o && o["error"] is not null) ? 1 : 0;
    }

    private static Task<JsonObject> RawAsync(BenchPlan plan) =>
        ChildProcess.RunAsync("raw", plan.WarmUp + plan.Raw + Slack, Seconds(plan.Raw), Seconds(plan.WarmUp));

    /// <summary>The longest a warm-up may take: its load, then what it sent let arrive, and a margin.</summary>
    private static TimeSpan WarmUpLimit(BenchPlan plan) => plan.WarmUp * 2 + Load.WarmUpDrainLimit + TimeSpan.FromSeconds(15);

    /// <summary>Runs one scenario in this (child) process and writes its figures to <paramref name="output"/>.</summary>
    public static async Task<int> RunScenarioAsync(string scenario, string output, string[] p, string? postgresAdmin)
    {
        if (scenario.StartsWith("hangfire", StringComparison.Ordinal))
        {
            // Hangfire's client API blocks a thread per enqueue; with the pool's default minimum (one
            // thread per core) those calls would starve its own work. Herald and the raw limit block
            // no pool thread and run as they would in production, on the pool's defaults: 64 threads
            // kept runnable on two cores cost them about a tenth of their throughput in preemption.
            ThreadPool.SetMinThreads(64, 64);
        }
        var result = scenario switch
        {
            "raw" => await RawLimit.RunAsync(ParseSeconds(p[0]), WarmUp(p, 1)),
            "herald-sqlite" => await HeraldScenario.RunAsync(null, ParseInt(p[0]), ParseSeconds(p[1]), ParseSeconds(p[2]), WarmUp(p, 3)),
            "herald-postgres" => await HeraldScenario.RunAsync(postgresAdmin, ParseInt(p[0]), ParseSeconds(p[1]), ParseSeconds(p[2]), WarmUp(p, 3)),
            "hangfire-inmemory" => await HangfireScenario.RunAsync(null, ParseInt(p[0]), ParseSeconds(p[1]), WarmUp(p, 2)),
            "hangfire-postgres" => await HangfireScenario.RunAsync(postgresAdmin, ParseInt(p[0]), ParseSeconds(p[1]), WarmUp(p, 2)),
            "backlog" => await BacklogScenario.RunAsync(ParseInt(p[0]), ParseSeconds(p[1]), ParseSeconds(p[2]), ParseSeconds(p[3])),
            _ => throw new ArgumentException($"unknown scenario '{scenario}'", nameof(scenario)),
        };
        await File.WriteAllTextAsync(output, result.ToJsonString());
        return 0;
    }

    /// <summary>The one-minute load average, which tells whether anything else was competing for the cores.</summary>
    private static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    /// <summary>The warm-up's seconds, the scenario's argument at <paramref name="index"/> (none when it is not given).</summary>
    private static TimeSpan WarmUp(string[] p, int index) => p.Length > index ? ParseSeconds(p[index]) : TimeSpan.Zero;

    private static int ParseInt(string value) => int.Parse(value, CultureInfo.InvariantCulture);

    private static TimeSpan ParseSeconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));
}
