using System.Globalization;
using Herald.Bench;

// ./herald bench scaling [--changes N]: the multi-node figures. The admin connection string of a
// PostgreSQL server comes from HERALD_TEST_POSTGRES (./herald bench starts a throwaway cluster).
var what = args.FirstOrDefault() ?? "scaling";
var changes = 20_000;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--changes")
    {
        changes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    }
}
var postgres = Environment.GetEnvironmentVariable("HERALD_TEST_POSTGRES");
var heraldDll = Environment.GetEnvironmentVariable("HERALD_CLI_DLL");
if (string.IsNullOrEmpty(postgres) || string.IsNullOrEmpty(heraldDll))
{
    Console.Error.WriteLine("run through ./herald bench, which starts PostgreSQL and builds herald");
    return 2;
}
var results = Path.Combine(Environment.GetEnvironmentVariable("HERALD_BENCH_RESULTS") ?? Path.Combine("bench", "results"));
return what switch
{
    "scaling" => await ScalingBench.RunAsync(postgres, heraldDll, changes, results),
    _ => Fail($"unknown benchmark '{what}'; known: scaling"),
};

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
