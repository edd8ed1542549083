using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Errors;

/// <summary>
/// A SQLite node whose disk fills up, on a real file system that does (a small tmpfs): changes are
/// refused as the database's trouble, the node says it is not ready for as long as the disk stays
/// full (its claims committing meanwhile), and once there is room again it is ready, takes changes,
/// and delivers every change it answered.
/// </summary>
public sealed class FullDiskTests
{
    [Fact]
    public async Task ANodeOnAFullDisk_IsNotReadyWhileItLasts_AndLosesNoAnsweredChange()
    {
        await using var disk = await SmallDisk.MountAsync(megabytes: 12);
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(dataDirectory: disk.Folder);
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "transaction");
        Assert.Equal(HttpStatusCode.OK, (await herald.Client.GetAsync("/readyz")).StatusCode);

        // Everything the disk has left is taken.
        var filler = Path.Combine(disk.Folder, "filler");
        await FillAsync(filler);

        // Changes go on being answered while the database's log has room it took before, then are
        // refused as the database's trouble. Each answered one is kept.
        var answered = new List<string>();
        HttpResponseMessage? refused = null;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var i = 0; i < 5_000 && refused is null && DateTime.UtcNow < until; i++)
        {
            var response = await merchant.PostAsJsonAsync("/v1/transactions", Merchant.SeedTransaction());
            if (response.StatusCode == HttpStatusCode.Created)
            {
                answered.Add((await response.Content.ReadFromJsonAsync<JsonObject>())!.Str("internalId"));
                response.Dispose();
            }
            else
            {
                refused = response;
            }
        }
        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("(its disk is full)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Not ready, and still not once the delivery loop's claims (which write nothing when there
        // is nothing due) have committed for a few seconds.
        for (var i = 0; i < 4; i++)
        {
            herald.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1000);
            using var ready = await herald.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("database disk full", (await ready.Content.ReadFromJsonAsync<JsonObject>())!.Str("status"));
        }

        // Room again: ready, changes taken, and every change answered delivered.
        File.Delete(filler);
        await HeraldHost.EventuallyAsync(async () => (await herald.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK);
        answered.Add(await merchant.NewTransactionAsync());
        await HeraldHost.EventuallyAsync(() =>
        {
            herald.Clock.Advance(TimeSpan.FromMinutes(1));
            var bodies = receiver.Received.Select(r => r.Body).ToList();
            return Task.FromResult(answered.All(id => bodies.Any(body => body.Contains(id, StringComparison.Ordinal))));
        }, TimeSpan.FromSeconds(60));
    }

    /// <summary>Writes <paramref name="path"/> until the file system has no room left.</summary>
    private static async Task FillAsync(string path)
    {
        var chunk = new byte[64 * 1024];
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            for (var i = 0; i < 100_000; i++)
            {
                await file.WriteAsync(chunk);
            }
        }
        catch (IOException)
        {
        }
        // Whatever is short of a chunk, byte-sized pieces take.
        try
        {
            for (var i = 0; i < 64 * 1024; i++)
            {
                await file.WriteAsync(chunk.AsMemory(0, 1));
            }
        }
        catch (IOException)
        {
        }
        try
        {
            await file.FlushAsync();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// A tmpfs of its own, mounted for the test (as root, or with sudo, as <c>test.sh</c> installs
    /// its packages) and taken away at the end.
    /// </summary>
    private sealed class SmallDisk : IAsyncDisposable
    {
        public string Folder { get; }

        private SmallDisk(string folder) => Folder = folder;

        public static async Task<SmallDisk> MountAsync(int megabytes)
        {
            var folder = Path.Combine(Path.GetTempPath(), "herald-full-disk-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", folder);
            if (code != 0)
            {
                Directory.Delete(folder);
                throw new InvalidOperationException($"this test needs a tmpfs of its own (mount -t tmpfs, as root or with sudo): {output}");
            }
            return new SmallDisk(folder);
        }

        public async ValueTask DisposeAsync()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            await RunAsync("umount", "-l", Folder);
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private static async Task<(int Code, string Output)> RunAsync(string command, params string[] arguments)
        {
            var root = Environment.UserName == "root";
            var start = new ProcessStartInfo(root ? command : "sudo")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (!root)
            {
                start.ArgumentList.Add("-n");
                start.ArgumentList.Add(command);
            }
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output.Trim());
        }
    }
}
