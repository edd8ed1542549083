namespace Herald.Bench;

/// <summary>The sizes and time limits of one run of the full benchmark.</summary>
internal sealed record BenchPlan(
    string Mode,
    TimeSpan Raw,
    int Changes,
    TimeSpan HeraldLimit,
    TimeSpan Latency,
    int HangfireInMemoryJobs,
    int HangfirePostgresJobs,
    TimeSpan HangfireLimit,
    int Backlog,
    TimeSpan BacklogRecordLimit,
    TimeSpan BacklogPending,
    TimeSpan BacklogDrainLimit,
    TimeSpan WarmUp)
{
    /// <summary>
    /// The name of the files a run writes (.md and .json): latest for the full benchmark, the one
    /// the README quotes; a quick run's go beside them, leaving the full run's as they are.
    /// </summary>
    public string ResultsName => Mode == "full" ? "latest" : Mode;

    /// <summary>The whole benchmark; every phase is time-limited, so it ends within about 50 minutes.</summary>
    public static BenchPlan Full { get; } = new(
        "full", TimeSpan.FromSeconds(10), 200_000, TimeSpan.FromMinutes(4), TimeSpan.FromSeconds(10),
        200_000, 5_000, TimeSpan.FromMinutes(3),
        1_000_000, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(8),
        TimeSpan.FromSeconds(15));

    /// <summary>The same measurements, smaller and with shorter time limits, in under two minutes.</summary>
    public static BenchPlan Quick { get; } = new(
        "quick", TimeSpan.FromSeconds(3), 10_000, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5),
        10_000, 1_000, TimeSpan.FromSeconds(12),
        100_000, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10),
        TimeSpan.FromSeconds(2));
}
