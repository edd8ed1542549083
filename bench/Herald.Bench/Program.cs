using System.Globalization;
using Herald.Bench;

// The nodes the benchmark hosts speak as `herald serve` does whatever the machine's language.
Herald.Server.Hosting.InvariantCulture.Pin();

// ./herald bench [--quick]: the full benchmark (bench/results/latest.md and latest.json; a quick
// run writes quick.md and quick.json beside them).
// ./herald bench scaling [--changes N]: the multi-node figures (bench/results/scaling.md and .json;
// a backlog other than the default writes scaling-N.md and .json beside them).
// The admin connection string of a PostgreSQL server comes from HERALD_TEST_POSTGRES
// (./herald bench starts a throwaway cluster).
var Usage = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"""
    usage: ./herald bench [--quick]
           ./herald bench scaling [--changes N]

      (none)     the full benchmark (5 to 8 minutes on 2 cores; every phase time-limited, at most ~50):
                 bench/results/latest.md and latest.json
      --quick    the same measurements, smaller (under 2 minutes): bench/results/quick.md and quick.json
      scaling    1, 2 and 3 herald serve processes on one PostgreSQL: bench/results/scaling.md and .json
                 (changes recorded: {ScalingBench.DefaultChanges:N0} by default; with another --changes N: scaling-N.md and .json beside them)
    """);
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(Usage);
    return 0;
}
if (args.Length > 0 && args[0] != "scenario")
{
    // Anything not understood is refused before a long run starts and overwrites the results.
    var known = args[0] == "scaling" ? new[] { "scaling", "--changes" } : ["--quick"];
    for (var i = 0; i < args.Length; i++)
    {
        if (!known.Contains(args[i]))
        {
            Console.Error.WriteLine($"herald bench: unknown argument '{args[i]}'");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (args[i] == "--changes")
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                Console.Error.WriteLine("herald bench: --changes takes a whole number of changes above 0");
                return 2;
            }
            i++;
        }
    }
}
var postgres = Environment.GetEnvironmentVariable("HERALD_TEST_POSTGRES");
if (string.IsNullOrEmpty(postgres))
{
    Console.Error.WriteLine("run through ./herald bench, which starts PostgreSQL and builds herald");
    return 2;
}
var results = Environment.GetEnvironmentVariable("HERALD_BENCH_RESULTS") ?? Path.Combine("bench", "results");
var what = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
switch (what)
{
    case "scenario" when args.Length >= 3:
        // One scenario in a process of its own, started by the full benchmark.
        return await FullBench.RunScenarioAsync(args[1], args[2], args[3..], postgres);
    case "all":
        return await FullBench.RunAsync(args.Contains("--quick") ? BenchPlan.Quick : BenchPlan.Full, postgres, results);
    case "scaling":
        var heraldDll = Environment.GetEnvironmentVariable("HERALD_CLI_DLL");
        if (string.IsNullOrEmpty(heraldDll))
        {
            Console.Error.WriteLine("run through ./herald bench scaling, which builds herald");
            return 2;
        }
        var changes = ScalingBench.DefaultChanges;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--changes")
            {
                changes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }
        return await ScalingBench.RunAsync(postgres, heraldDll, changes, results);
    default:
        Console.Error.WriteLine($"unknown benchmark '{what}'; known: (none) for all, scaling; --quick for a short run");
        return 2;
}
