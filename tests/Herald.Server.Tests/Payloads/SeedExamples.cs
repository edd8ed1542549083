using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Herald.Server.Tests.Payloads;

/// <summary>The example payloads of the three seed documents, read from the documents themselves.</summary>
public static partial class SeedExamples
{
    private static string SeedText(string prefix)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Seeds");
        var file = Directory.Exists(dir) ? Directory.GetFiles(dir, prefix + "_*.txt").FirstOrDefault() : null;
        Assert.True(file is not null, $"seed {prefix} not found in {dir}: the shared folder must sit beside the repository");
        return File.ReadAllText(file!);
    }

    /// <summary>Seed 000's examples by (state, site).</summary>
    public static IReadOnlyDictionary<(string State, string Site), JsonObject> Point()
    {
        var result = new Dictionary<(string, string), JsonObject>();
        string? state = null;
        string? site = null;
        var json = new List<string>();
        var inJson = false;
        foreach (var line in SeedText("000").Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("#### ", StringComparison.Ordinal))
            {
                state = trimmed[5..].Split(' ')[0].ToUpperInvariant() switch
                {
                    "FINISHED" => "FINISHED",
                    "CANCELED" => "CANCELED",
                    "ERROR" => "ERROR",
                    _ => null,
                };
            }
            else if (SiteMarker().Match(trimmed) is { Success: true } m)
            {
                site = m.Groups[1].Value;
            }
            else if (trimmed == "```json")
            {
                inJson = true;
                json.Clear();
            }
            else if (trimmed == "```" && inJson)
            {
                inJson = false;
                result[(state!, site!)] = Parse(string.Join('\n', json));
            }
            else if (inJson)
            {
                json.Add(line);
            }
        }
        return result;
    }

    /// <summary>Seed 001's first example (PAYMENT_ORDER.CLOSED).</summary>
    public static JsonObject Thin()
    {
        var text = SeedText("001");
        var start = text.IndexOf('{', StringComparison.Ordinal);
        return Parse(text[start..(text.IndexOf('}', start) + 1)]);
    }

    /// <summary>Seed 003's Notification Payload.</summary>
    public static JsonObject Transaction()
    {
        var text = SeedText("003");
        var start = text.IndexOf('{', text.IndexOf("right_code_blocks", StringComparison.Ordinal));
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return Parse(text[start..(i + 1)]);
            }
        }
        throw new InvalidOperationException("seed 003 payload not found");
    }

    /// <summary>Seed 003's Error 404 example: the shape and words of an answer for something not there.</summary>
    public static JsonObject Error404()
    {
        var text = SeedText("003");
        var at = text.IndexOf("\"statusCode\": 404", StringComparison.Ordinal);
        Assert.True(at >= 0, "seed 003's Error 404 example not found");
        var start = text.LastIndexOf('{', at);
        return Parse(text[start..(text.IndexOf('}', at) + 1)]);
    }

    // Seed 000 writes "caller_id": 09876543, which JSON forbids; the number it means is 9876543.
    private static JsonObject Parse(string json) => JsonNode.Parse(LeadingZero().Replace(json, ": $1"))!.AsObject();

    [GeneratedRegex(@"^----\[(ml[a-z])\]----$")]
    private static partial Regex SiteMarker();

    [GeneratedRegex(@":\s*0+(\d)")]
    private static partial Regex LeadingZero();
}
