using System.Text.Json.Nodes;

namespace Herald.Bench.Tests;

/// <summary>
/// What a benchmark run reports: each Herald row judged against the limits measured around it, the
/// other targets judged on the same run's figures, and a figure that is missing judging nothing.
/// </summary>
public sealed class BenchReportTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "herald-bench-report-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static JsonObject Limit(double requestsPerSecond) => new() { ["requests_per_second"] = requestsPerSecond, ["requests"] = requestsPerSecond * 10 };

    private static JsonObject Delivered(double perSecond, double? p99 = 5) => new() { ["delivered_per_second"] = perSecond, ["p99_ms"] = p99, ["changes"] = 200_000 };

    /// <summary>A run's figures in which every target passes unless a test changes one.</summary>
    private static JsonObject Run() => new()
    {
        ["raw"] = Limit(30_000),
        ["sqlite"] = Delivered(16_000),
        ["raw_after_sqlite"] = Limit(30_000),
        ["postgres"] = Delivered(13_000),
        ["raw_after_postgres"] = Limit(30_000),
        ["hangfire_postgres"] = new JsonObject { ["delivered_per_second"] = 100 },
        ["backlog"] = new JsonObject { ["changes"] = 1_000_000, ["rss_mb_pending"] = 150 },
    };

    /// <summary>The report of a run, its figures read back from JSON text as a run reads each row's.</summary>
    private Task<string> WriteReportAsync(JsonObject results) =>
        new BenchReport(BenchPlan.Full, JsonNode.Parse(results.ToJsonString())!.AsObject(), TimeSpan.FromMinutes(7)).WriteAsync(_directory);

    /// <summary>The targets as latest.json lists them, by the start of their names.</summary>
    private async Task<JsonNode> TargetAsync(JsonObject results, string name)
    {
        await WriteReportAsync(results);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "latest.json")))!;
        return json["targets"]!.AsArray().Single(t => t!["name"]!.GetValue<string>().StartsWith(name, StringComparison.Ordinal))!;
    }

    private static double? Measured(JsonNode target) => target["measured"]?.GetValue<double>();

    private static bool? Pass(JsonNode target) => target["pass"]?.GetValue<bool>();

    [Fact]
    public async Task SqliteRow_IsJudgedAgainstTheMeanOfTheLimitsJustBeforeAndAfterIt()
    {
        var run = Run();
        run["raw"] = Limit(28_000);
        run["raw_after_sqlite"] = Limit(32_000);
        run["sqlite"] = Delivered(15_000);

        var target = await TargetAsync(run, "Herald on SQLite");

        // 15,000 of the mean 30,000: the limit before alone would make it 53.6 %, the one after 46.9 %.
        Assert.Equal(50.0, Measured(target));
        Assert.True(Pass(target));
    }

    [Fact]
    public async Task PostgresRow_IsJudgedAgainstTheLimitsAfterTheSqliteRowAndAfterItself_NotTheFirst()
    {
        var run = Run();
        run["raw"] = Limit(10_000);
        run["raw_after_sqlite"] = Limit(36_000);
        run["raw_after_postgres"] = Limit(34_000);
        run["postgres"] = Delivered(13_650);

        var target = await TargetAsync(run, "Herald on PostgreSQL, delivered/s");

        Assert.Equal(39.0, Measured(target));
        Assert.False(Pass(target));
    }

    [Fact]
    public async Task ALimitThatMeasuredNothing_IsLeftOut_AndTheOtherJudgesAlone()
    {
        var run = Run();
        run["raw"] = Limit(30_000);
        run["raw_after_sqlite"] = Limit(0);
        run["sqlite"] = Delivered(14_400);

        var sqlite = await TargetAsync(run, "Herald on SQLite");
        Assert.Equal(48.0, Measured(sqlite));
        Assert.False(Pass(sqlite));

        run.Remove("raw_after_sqlite");
        run["postgres"] = Delivered(12_000);
        var postgres = await TargetAsync(run, "Herald on PostgreSQL, delivered/s");
        Assert.Equal(40.0, Measured(postgres));
        Assert.True(Pass(postgres));
    }

    [Fact]
    public async Task AMissingFigure_JudgesNothing_AndTheReportSaysSo()
    {
        var run = Run();
        run["postgres"] = new JsonObject { ["error"] = "the server went away" };

        var throughput = await TargetAsync(run, "Herald on PostgreSQL, delivered/s");
        var versusHangfire = await TargetAsync(run, "Herald on PostgreSQL over Hangfire");
        var latency = await TargetAsync(run, "p99 record-to-receipt at 1000/s, PostgreSQL");

        foreach (var target in new[] { throughput, versusHangfire, latency })
        {
            Assert.Null(Measured(target));
            Assert.Null(Pass(target));
        }
        var markdown = await File.ReadAllTextAsync(Path.Combine(_directory, "latest.md"));
        Assert.Contains("| Herald on PostgreSQL, delivered/s as a share of the limit (measured just before and after it) | — | >= 40 % | not judged |", markdown, StringComparison.Ordinal);
        Assert.Contains("**failed: the server went away**", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300.0, 5.0, false)]
    [InlineData(299.0, 49.9, true)]
    [InlineData(10.0, 50.1, false)]
    public async Task OverHangfireAndLatency_AreJudgedOnTheirThresholds(double hangfirePerSecond, double p99, bool pass)
    {
        var run = Run();
        run["postgres"] = Delivered(30_000, p99);
        run["hangfire_postgres"] = new JsonObject { ["delivered_per_second"] = hangfirePerSecond };

        var versusHangfire = await TargetAsync(run, "Herald on PostgreSQL over Hangfire");
        var latency = await TargetAsync(run, "p99 record-to-receipt at 1000/s, PostgreSQL");

        Assert.Equal(30_000 / hangfirePerSecond > 100, Pass(versusHangfire));
        Assert.Equal(p99 < 50, Pass(latency));
        Assert.Equal(pass, Pass(versusHangfire) == true && Pass(latency) == true);
    }

    [Theory]
    [InlineData(1_000_000, 150.0, true)]
    [InlineData(1_000_000, 300.0, false)]
    [InlineData(100_000, 150.0, null)]
    [InlineData(100_000, 320.0, false)]
    public async Task Backlog_IsJudgedAtAMillionPending_AndBelowThatOnlyAMissCounts(int pending, double rssMb, bool? pass)
    {
        var run = Run();
        run["backlog"] = new JsonObject { ["changes"] = pending, ["rss_mb_pending"] = rssMb };

        var target = await TargetAsync(run, "RSS with");

        Assert.Equal(pass, Pass(target));
        Assert.StartsWith($"RSS with {pending:N0} pending", target["name"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheReport_ListsEachLimitWhereItWasMeasured_AroundTheHeraldRows()
    {
        await WriteReportAsync(Run());
        var rows = (await File.ReadAllLinesAsync(Path.Combine(_directory, "latest.md")))
            .Where(l => l.StartsWith("| Limit,", StringComparison.Ordinal) || l.StartsWith("| Herald on", StringComparison.Ordinal) && l.Contains("delivered/s**", StringComparison.Ordinal))
            .Select(l => l.Split(':')[0])
            .ToList();

        Assert.Equal(
            ["| Limit, before Herald on SQLite", "| Herald on SQLite", "| Limit, after Herald on SQLite", "| Herald on PostgreSQL", "| Limit, after Herald on PostgreSQL"],
            rows);
    }

    [Fact]
    public async Task APostgresRow_SaysWhatTheServerWroteAndSpent_ASqliteRowNeither()
    {
        var run = Run();
        run["postgres"]!["wal_kb_per_item"] = 3.21;
        run["postgres"]!["server_cpu_us_per_item"] = 118.4;

        await WriteReportAsync(run);
        var lines = await File.ReadAllLinesAsync(Path.Combine(_directory, "latest.md"));

        var postgres = lines.Single(l => l.StartsWith("| Herald on PostgreSQL: recorded", StringComparison.Ordinal));
        Assert.Contains("the server wrote 3.21 kB of WAL a notification and spent 118 µs of CPU on it", postgres, StringComparison.Ordinal);
        var sqlite = lines.Single(l => l.StartsWith("| Herald on SQLite: recorded", StringComparison.Ordinal));
        Assert.DoesNotContain("the server", sqlite, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AQuickRun_WritesItsOwnFiles_AndLeavesTheFullRunsAsTheyAre()
    {
        await WriteReportAsync(Run());
        var full = await File.ReadAllTextAsync(Path.Combine(_directory, "latest.md"));

        await new BenchReport(BenchPlan.Quick, JsonNode.Parse(Run().ToJsonString())!.AsObject(), TimeSpan.FromSeconds(70)).WriteAsync(_directory);

        Assert.Equal(full, await File.ReadAllTextAsync(Path.Combine(_directory, "latest.md")));
        Assert.Equal("full", JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "latest.json")))!["mode"]!.GetValue<string>());
        Assert.StartsWith("# Herald benchmark (quick)", await File.ReadAllTextAsync(Path.Combine(_directory, "quick.md")), StringComparison.Ordinal);
        Assert.Equal("quick", JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_directory, "quick.json")))!["mode"]!.GetValue<string>());
    }

    [Fact]
    public void AScalingRunOfAnotherSize_IsWrittenBesideTheCommittedOne()
    {
        Assert.Equal("scaling", ScalingBench.ResultsName(ScalingBench.DefaultChanges));
        Assert.Equal("scaling-5000", ScalingBench.ResultsName(5_000));
    }
}
