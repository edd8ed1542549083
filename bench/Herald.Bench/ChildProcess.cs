using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// Runs one scenario in a fresh process of this program, so that each one's memory (peak RSS
/// included) and Hangfire's global configuration are its own.
/// </summary>
internal static class ChildProcess
{
    public static async Task<JsonObject> RunAsync(string scenario, TimeSpan limit, params string[] parameters)
    {
        var output = Path.Combine(Path.GetTempPath(), $"herald-bench-{scenario}-{Guid.NewGuid():N}.json");
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        foreach (var arg in new[] { "scenario", scenario, output }.Concat(parameters))
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + host);
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new JsonObject { ["error"] = $"did not finish within {limit.TotalSeconds:F0} s" };
        }
        try
        {
            return process.ExitCode == 0 && File.Exists(output)
                ? JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject()
                : new JsonObject { ["error"] = $"exited with {process.ExitCode}" };
        }
        finally
        {
            File.Delete(output);
        }
    }
}
