using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Herald.Core.Tests.Payloads;

/// <summary>The example payloads of the seeds, embedded verbatim from <c>Payloads/Seeds</c>.</summary>
internal static partial class SeedPayloads
{
    public static JsonObject Point(string state, string site) => Load($"point-{state.ToLowerInvariant()}-{site}.json");

    public static JsonObject Thin(string state) => Load($"thin-{state.ToLowerInvariant()}.json");

    public static JsonObject Transaction() => Load("transaction.json");

    public static JsonObject Load(string name)
    {
        using var stream = typeof(SeedPayloads).Assembly.GetManifestResourceStream("Seeds." + name)
            ?? throw new InvalidOperationException($"seed payload '{name}' is not embedded");
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        // Seed 000 writes "caller_id": 09876543, and JSON forbids leading zeros in numbers.
        text = LeadingZeros().Replace(text, "");
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"seed payload '{name}' is not an object");
    }

    [GeneratedRegex(@"(?<=:\s*)0+(?=[1-9]\d*\s*[,}\]])")]
    private static partial Regex LeadingZeros();
}
