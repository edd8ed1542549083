using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>A run's figures as <c>name.md</c> and <c>name.json</c> in the results directory.</summary>
internal static class ResultFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes both files; answers their path without the extension, for saying where they went.</summary>
    public static async Task<string> WriteAsync(string directory, string name, string markdown, JsonNode json)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, name);
        await File.WriteAllTextAsync(stem + ".md", markdown);
        await File.WriteAllTextAsync(stem + ".json", json.ToJsonString(Indented) + "\n");
        return stem;
    }
}
