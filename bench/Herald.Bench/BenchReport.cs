using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>The figures of one run as bench/results/latest.md and latest.json (quick.md and quick.json for a quick run), with the targets judged on them.</summary>
internal sealed class BenchReport
{
    private readonly BenchPlan _plan;
    private readonly JsonObject _results;
    private readonly TimeSpan _elapsed;
    private readonly DateTime _taken = DateTime.UtcNow;
    private readonly List<Target> _targets;

    public BenchReport(BenchPlan plan, JsonObject results, TimeSpan elapsed)
    {
        _plan = plan;
        _results = results;
        _elapsed = elapsed;
        _targets = JudgeTargets();
    }

    private sealed record Target(string Name, double? Measured, string Unit, string Threshold, bool? Pass);

    /// <summary>Herald's rows, keyed by database, in the order a run measures them, a limit before the first and after each.</summary>
    public static readonly (string Key, string Label)[] HeraldRows = [("sqlite", "SQLite"), ("postgres", "PostgreSQL")];

    /// <summary>Where the limit measured just before a Herald row is kept: the run's first, or the one after the row before.</summary>
    public static string LimitBefore(string row)
    {
        var index = Array.FindIndex(HeraldRows, r => r.Key == row);
        return index switch
        {
            < 0 => throw new ArgumentException($"no Herald row '{row}'", nameof(row)),
            0 => "raw",
            _ => LimitAfter(HeraldRows[index - 1].Key),
        };
    }

    /// <summary>Where the limit measured just after a Herald row is kept.</summary>
    public static string LimitAfter(string row) => "raw_after_" + row;

    /// <summary>The limit a Herald row is judged against: the mean of those measured just before and after it (either alone when the other failed).</summary>
    private double? LimitAround(string row)
    {
        var around = new[] { Figure(LimitBefore(row), "requests_per_second"), Figure(LimitAfter(row), "requests_per_second") }
            .OfType<double>().Where(limit => limit > 0).ToList();
        return around.Count == 0 ? null : around.Average();
    }

    private double? Figure(string scenario, string key) =>
        _results[scenario]?[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static double? Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;

    private List<Target> JudgeTargets()
    {
        var sqlite = Figure("sqlite", "delivered_per_second");
        var postgres = Figure("postgres", "delivered_per_second");
        var hangfirePostgres = Figure("hangfire_postgres", "delivered_per_second");
        var sqliteRatio = Ratio(sqlite, LimitAround("sqlite"));
        var postgresRatio = Ratio(postgres, LimitAround("postgres"));
        var versusHangfire = Ratio(postgres, hangfirePostgres);
        var sqliteP99 = Figure("sqlite", "p99_ms");
        var postgresP99 = Figure("postgres", "p99_ms");
        var backlogRss = Figure("backlog", "rss_mb_pending");
        var backlogN = Figure("backlog", "changes") ?? 0;
        // A figure that is missing (a contender that delivered nothing in time) judges nothing.
        static bool? Judge(double? measured, Func<double, bool> test) => measured is { } m ? test(m) : null;
        return
        [
            new("Herald on SQLite, delivered/s as a share of the limit (measured just before and after it)", sqliteRatio * 100, "%", ">= 50 %", Judge(sqliteRatio, r => r >= 0.5)),
            new("Herald on PostgreSQL, delivered/s as a share of the limit (measured just before and after it)", postgresRatio * 100, "%", ">= 40 %", Judge(postgresRatio, r => r >= 0.4)),
            new("Herald on PostgreSQL over Hangfire.PostgreSql", versusHangfire, "x", "> 100 x", Judge(versusHangfire, r => r > 100)),
            new($"p99 record-to-receipt at {HeraldScenario.OfferedPerSecond}/s, SQLite", sqliteP99, "ms", "< 50 ms", Judge(sqliteP99, p => p < 50)),
            new($"p99 record-to-receipt at {HeraldScenario.OfferedPerSecond}/s, PostgreSQL", postgresP99, "ms", "< 50 ms", Judge(postgresP99, p => p < 50)),
            new($"RSS with {backlogN:N0} pending (target: 1,000,000; below that, only a miss is judged)", backlogRss, "MB", "< 300 MB",
                backlogRss is null ? null : backlogN >= 1_000_000 ? backlogRss < 300 : backlogRss < 300 ? null : false),
        ];
    }

    public string Markdown()
    {
        var md = new StringBuilder();
        void Line(string text) => md.Append(text).Append('\n');
        string F(string scenario, string key, string format = "N0") =>
            Figure(scenario, key) is { } d ? d.ToString(format, CultureInfo.InvariantCulture) : "—";
        string Cpu(string scenario, string per) =>
            $"{F(scenario, "cpu_us_per_item")} µs of CPU a {per}, {F(scenario, "cpu_user_us_per_item")} of them in user mode"
            + (Figure(scenario, "cpu_writer_us_per_item") is not null ? $", {F(scenario, "cpu_writer_us_per_item")} on SQLite's writer thread" : "")
            + (Figure(scenario, "allocated_kb_per_item") is { } allocated
                ? string.Create(CultureInfo.InvariantCulture, $"; {allocated:F1} kB allocated a {per}, the process paused {Figure(scenario, "gc_pause_share") ?? 0:P0} of the time by {F(scenario, "gc_collections")} garbage collections")
                : "")
            + (Figure(scenario, "wal_kb_per_item") is { } wal
                ? string.Create(CultureInfo.InvariantCulture, $"; the server wrote {wal:F2} kB of WAL a {per}")
                    + (Figure(scenario, "server_cpu_us_per_item") is not null ? $" and spent {F(scenario, "server_cpu_us_per_item")} µs of CPU on it" : "")
                : "")
            + (Figure(scenario, "machine_idle_share") is { } idle
                ? string.Create(CultureInfo.InvariantCulture, $"; the machine {idle:P0} idle and {Figure(scenario, "machine_iowait_share") ?? 0:P0} waiting on the disk")
                : "");
        string Error(string scenario) => _results[scenario]?["error"] is { } e ? $" **failed: {e}**" : "";
        void LimitLine(string key, string when) =>
            Line($"| Limit, {when}: bare `HttpClient` → Kestrel, {RawLimit.Concurrency} concurrent, {F(key, "body_bytes")}-byte JSON | {F(key, "requests")} | **{F(key, "requests_per_second")} requests/s** ({Cpu(key, "request")}){Error(key)} | |");
        string Complete(string scenario, string of, string delivered = "delivered") =>
            _results[scenario]?["complete"]?.GetValue<bool>() == false ? $" (time limit reached: {F(scenario, delivered)} of {F(scenario, of)} delivered)" : "";

        Line($"# Herald benchmark ({_plan.Mode})");
        Line("");
        Line(string.Create(CultureInfo.InvariantCulture,
            $"Taken {_taken:yyyy-MM-dd HH:mm} UTC by `./herald bench{(_plan.Mode == "quick" ? " --quick" : "")}` on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}), in {_elapsed.TotalSeconds:F0} s; one-minute load average {_results["load_average_before"]} before and {_results["load_average_after"]} after (anything above {Environment.ProcessorCount} means other work was competing for the machine)."));
        Line("");
        Line(string.Create(CultureInfo.InvariantCulture, $"Everything shares the machine: the contender, its database, the receiver and the load. Each row ran in its own process; RSS is that whole process's (the node with its receiver and its load), not Herald's alone, over the measured phase (after the warm-up, with what the warm-up left in memory)."));
        Line("");
        Line("| measurement | N | result | peak RSS |");
        Line("|---|---:|---|---:|");
        foreach (var (key, label) in HeraldRows)
        {
            if (key == HeraldRows[0].Key)
            {
                LimitLine(LimitBefore(key), $"before Herald on {label}");
            }
            Line($"| Herald on {label}: recorded through `ChangeRecorder` ({HeraldScenario.Recorders} recorders) and delivered | {F(key, "changes")} | **{F(key, "delivered_per_second")} delivered/s** (recording {F(key, "recorded_per_second")}/s; mean body {F(key, "mean_body_bytes")} bytes; {F(key, "writes")} group-commit transactions of {F(key, "items_per_write", "F1")} changes and outcomes, {F(key, "write_ms", "F2")} ms each; {Cpu(key, "notification")}){Complete(key, "changes")}{Error(key)} | {F(key, "peak_rss_mb_throughput")} MB |");
            var bound = _results[key]?["latency_lower_bound"]?.GetValue<bool>() == true ? "≥ " : "";
            var unreceived = bound.Length > 0
                ? $"; {F(key, "latency_received")} of {F(key, "latency_offered")} received in time, the rest counted with the time they had waited, so these are lower bounds"
                : "";
            if (_results[key]?["latency_started_with_pending"]?.GetValue<int>() is > 0)
            {
                unreceived += $"; started with {F(key, "latency_started_with_pending")} of the throughput phase still pending";
            }
            Line($"| Herald on {label}: record-to-receipt at {HeraldScenario.OfferedPerSecond:N0} changes/s offered ({F(key, "latency_offered_per_second")}/s achieved) | {F(key, "latency_offered")} | **p50 {bound}{F(key, "p50_ms", "F1")} ms, p99 {bound}{F(key, "p99_ms", "F1")} ms** (max {bound}{F(key, "max_ms", "F1")} ms{unreceived}) | {F(key, "peak_rss_mb_latency")} MB |");
            LimitLine(LimitAfter(key), $"after Herald on {label}");
        }
        Line($"| Hangfire.InMemory: one job per notification, {F("hangfire_inmemory", "workers")} workers | {F("hangfire_inmemory", "jobs")} | **{F("hangfire_inmemory", "delivered_per_second")} delivered/s** ({Cpu("hangfire_inmemory", "job")}){Complete("hangfire_inmemory", "jobs")}{Error("hangfire_inmemory")} | {F("hangfire_inmemory", "peak_rss_mb")} MB |");
        Line($"| Hangfire.PostgreSql: the same (N capped at {_plan.HangfirePostgresJobs:N0}, it is slow) | {F("hangfire_postgres", "jobs")} | **{F("hangfire_postgres", "delivered_per_second")} delivered/s** ({Cpu("hangfire_postgres", "job")}){Complete("hangfire_postgres", "jobs")}{Error("hangfire_postgres")} | {F("hangfire_postgres", "peak_rss_mb")} MB |");
        var backlogCapped = Figure("backlog", "changes") < _plan.Backlog
            ? $" (asked {_plan.Backlog:N0}; recording stopped at its {_plan.BacklogRecordLimit.TotalSeconds:F0} s limit, at {F("backlog", "recorded_per_second")}/s)"
            : $" (recorded at {F("backlog", "recorded_per_second")}/s)";
        Line($"| Backlog on SQLite: pending for a paused endpoint{backlogCapped}, RSS while pending | {F("backlog", "pending")} | **{F("backlog", "rss_mb_pending")} MB**{Error("backlog")} | {F("backlog", "peak_rss_mb_recording")} MB while recording |");
        Line($"| Backlog: resumed and drained | {F("backlog", "drained")} | **{F("backlog", "drain_seconds", "F1")} s, {F("backlog", "drained_per_second")} delivered/s**{Complete("backlog", "changes", "drained")} | {F("backlog", "peak_rss_mb_draining")} MB |");
        Line("");
        Line("| target | measured | threshold | verdict |");
        Line("|---|---:|---:|---|");
        foreach (var t in _targets)
        {
            var measured = t.Measured is { } m ? m.ToString("F1", CultureInfo.InvariantCulture) + " " + t.Unit : "—";
            var verdict = t.Pass switch { true => "pass", false => "**fail**", null => "not judged" };
            Line($"| {t.Name} | {measured} | {t.Threshold} | {verdict} |");
        }
        Line("");
        Line("How it is measured:");
        Line("");
        Line(string.Create(CultureInfo.InvariantCulture, $"- Every contender is warmed up with its own load before its clock starts: {_plan.WarmUp.TotalSeconds:F0} s of it (Herald and Hangfire at most half their N), and what that sent is let arrive. A freshly started .NET process spends its first seconds under load compiling its hot code again, optimized (on this machine a Herald node's compiler thread took a quarter of a core for its first 15 s); the figures are those of a node that has been running, as the limit's are. Each row's warm-up is in {_plan.ResultsName}.json (`warm_up_items`, `warm_up_seconds`)."));
        Line("- The limit is measured three times, before Herald's SQLite row, between it and the PostgreSQL row, and after that; each Herald row's share is of the mean of the two limits measured just before and just after it. On this kind of machine (two virtual cores) the same code runs tens of per cent faster or slower within a few minutes, so a limit measured once, minutes away from a row, could flatter or wrong it; the three limits show how much the machine moved during the run.");
        Line("- The receiver is one Kestrel app on 127.0.0.1 that answers 200 and notes the first arrival of each `webhook-id`; every contender posts to it.");
        Line("- CPU a request, notification or job: the processor time of the row's process over its measured phase (all its threads: the contender, the receiver and the load, in user and kernel mode), divided by what was delivered. A PostgreSQL server's own time is not in it (it runs in processes of its own; it is given apart, below). On SQLite, the part of it on the group commit's writer thread (which commits every change and every scheduled attempt's outcome), and for every row the share of the whole machine's time that was idle, or idle waiting on the disk, over the same phase: what the contender left of the two cores. Likewise the memory the process allocated, divided by what was delivered, and the share of the phase it was paused for garbage collections (the load's and the receiver's allocations are in it too). On PostgreSQL, the write-ahead log the server wrote over the phase (from the log's position before and after, the cluster serving only that row: its statements, and the vacuuming and checkpoints they caused), divided by what was delivered: the server's share of the work, which does not move with the machine's speed as delivered/s does; and the processor time of the server's processes over the phase (the postmaster and its children, those that ended meanwhile included), divided likewise.");
        Line("- Herald is composed in-process as `herald serve --dev` composes it (`HeraldServer.Build`), with its delivery workers; changes are new transactions recorded through `ChangeRecorder`, the API's own code path, rendered in the transaction format to a 600-byte body, to one endpoint. Delivered/s runs from the first record to the last receipt, recording and delivery overlapping.");
        Line("- SQLite runs as Herald ships it (WAL, `synchronous=FULL`); every change and every attempt is committed. The PostgreSQL cluster is the throwaway one `./herald bench` starts, with `fsync=off`, for Herald and Hangfire alike.");
        Line($"- Latency: one record due every millisecond whatever the earlier ones are doing (open loop, at most as many in flight as there are recorders), timed from when it was due to the first receipt of its webhook-id; a change not received by the end counts with the time it had waited, never left out. It starts once the throughput phase's notifications have all arrived (waiting at most twice its duration, and at least 10 s; what was still pending then is named in {_plan.ResultsName}.json as `latency_started_with_pending`).");
        Line($"- Hangfire: `Hangfire.Core` 1.8.25 with `Hangfire.InMemory` 1.0.0 or `Hangfire.PostgreSql` 1.21.1 (200 ms queue poll instead of its default 15 s), {HangfireScenario.Workers} workers (Hangfire's default here), jobs enqueued by {HangfireScenario.Enqueuers} threads; each job posts the same body with one shared `HttpClient`.");
        Line("- Backlog: the endpoint is paused, the changes recorded, the RSS sampled while they wait, then the endpoint resumed; drain time runs from the resume to the last receipt.");
        return md.ToString();
    }

    /// <summary>Writes the report's two files; answers their path without the extension.</summary>
    public Task<string> WriteAsync(string directory)
    {
        var json = new JsonObject
        {
            ["taken_utc"] = _taken.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["mode"] = _plan.Mode,
            ["cores"] = Environment.ProcessorCount,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["seconds"] = Load.Round(_elapsed.TotalSeconds),
            ["results"] = _results.DeepClone(),
            ["targets"] = new JsonArray(_targets.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name,
                ["measured"] = t.Measured is { } m ? Load.Round(m) : null,
                ["unit"] = t.Unit,
                ["threshold"] = t.Threshold,
                ["pass"] = t.Pass,
            }).ToArray()),
        };
        return ResultFiles.WriteAsync(directory, _plan.ResultsName, Markdown(), json);
    }
}
