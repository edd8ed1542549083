using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Cli.Tests.Commands;

public sealed class BackupTests
{
    /// <summary>Runs <paramref name="test"/> with a folder of its own for data folders, removed afterwards.</summary>
    private static async Task WithFolderAsync(Func<string, Task> test)
    {
        var root = Path.Combine(Path.GetTempPath(), "herald-backup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            await test(root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static HttpClient Client(string key)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<string> RecordOrderAsync(HttpClient http, string url)
    {
        using var response = await http.PostAsJsonAsync(url + "/v1/payment_orders", new { amount = 10, currency = "BRL" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static async Task<List<string>> NotificationIdsAsync(HttpClient http, string url)
    {
        var page = await http.GetFromJsonAsync<JsonObject>(url + "/v1/notifications?limit=100");
        return page!["data"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public Task Backup_OfARunningNode_IsANodeThatCarriesOn_SigningWithTheSameSecrets() => WithFolderAsync(async root =>
    {
        var data = Path.Combine(root, "data");
        var copy = Path.Combine(root, "copy");
        await using var receiver = await TestReceiver.StartAsync();
        string merchantKey, secret;
        List<string> before;
        await using (var node = await HeraldProcess.ServeAsync("--dev", "--data", data))
        {
            using var admin = Client(HeraldProcess.AdminKey);
            var merchant = await (await admin.PostAsJsonAsync(node.Url + "/v1/merchants", new { name = "Kept" })).Content.ReadFromJsonAsync<JsonObject>();
            merchantKey = merchant!["api_key"]!.GetValue<string>();
            using var http = Client(merchantKey);
            var endpoint = await (await http.PostAsJsonAsync(node.Url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).Content.ReadFromJsonAsync<JsonObject>();
            secret = endpoint!["secret"]!.GetValue<string>();
            for (var i = 0; i < 5; i++)
            {
                await RecordOrderAsync(http, node.Url);
            }
            await receiver.WaitForAsync(5, TimeSpan.FromSeconds(30));
            before = await NotificationIdsAsync(http, node.Url);
            // A folder's own admin key (a node given none makes one there) goes with the copy.
            await File.WriteAllTextAsync(Path.Combine(data, "admin.key"), "hk_admin_kept_in_the_folder_0123456789");

            // Taken while the node goes on recording and delivering.
            using var recording = new CancellationTokenSource();
            var load = Task.Run(async () =>
            {
                for (var i = 0; i < 200 && !recording.IsCancellationRequested; i++)
                {
                    await RecordOrderAsync(http, node.Url);
                }
            });
            var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", copy, "--data", data);
            await recording.CancelAsync();
            await load;
            Assert.True(code == 0, stderr);
            Assert.Contains($"-> {copy}: herald.db (", stdout, StringComparison.Ordinal);
            Assert.Contains("keys/ (1 key), admin.key", stdout, StringComparison.Ordinal);
            Assert.Contains($"start it with --data {copy}", stdout, StringComparison.Ordinal);
            Assert.Contains("the same --keys-cert", stdout, StringComparison.Ordinal);
        }
        Assert.Equal("hk_admin_kept_in_the_folder_0123456789", await File.ReadAllTextAsync(Path.Combine(copy, "admin.key")));
        if (!OperatingSystem.IsWindows())
        {
            // Only its owner reads the copy, whatever the modes it was copied from.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(copy));
            foreach (var file in Directory.EnumerateFiles(copy, "*", SearchOption.AllDirectories))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        // The first node is gone; one started on the copy has what was recorded before it, and signs
        // a resend with the endpoint's secret, which only the copied key ring can read.
        var received = receiver.Received.Count;
        await using var restored = await HeraldProcess.ServeAsync("--dev", "--data", copy);
        using var client = Client(merchantKey);
        var after = await NotificationIdsAsync(client, restored.Url);
        Assert.Superset(before.ToHashSet(), after.ToHashSet());
        var resent = before[^1];
        using (var response = await client.PostAsync($"{restored.Url}/v1/notifications/{resent}/resend", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        ReceivedRequest? request = null;
        var notification = await client.GetFromJsonAsync<JsonObject>($"{restored.Url}/v1/notifications/{resent}");
        var eventId = notification!["event_id"]!.GetValue<string>();
        while (request is null && DateTime.UtcNow < deadline)
        {
            request = receiver.Received.Skip(received).FirstOrDefault(r => r.Headers["webhook-id"] == eventId);
            await Task.Delay(50);
        }
        Assert.NotNull(request);
        Assert.True(WebhookSignature.Verify(secret, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], Encoding.UTF8.GetBytes(request.Body), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
    });

    [Fact]
    public Task Backup_OfAFolderWhoseSecretsNoKeyRingReads_SaysSo_WhereAFolderWithNoneDoesNot() => WithFolderAsync(async root =>
    {
        var data = Path.Combine(root, "data");
        await using (var node = await HeraldProcess.ServeAsync("--dev", "--data", data))
        {
            var (merchant, _) = await node.NewMerchantAsync("Kept");
            using (merchant)
            {
                var made = await merchant.PostAsJsonAsync(node.Url + "/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "thin" });
                Assert.Equal(HttpStatusCode.Created, made.StatusCode);
            }
        }
        // A folder restored without its key ring, as a copy of herald.db alone would be.
        Directory.Delete(Path.Combine(data, "keys"), recursive: true);

        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", Path.Combine(root, "copy"), "--data", data);
        Assert.Equal(0, code);
        Assert.Contains("no key ring (the data folder has none)", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, "copy", "keys")));
        Assert.StartsWith($"herald: warning: {data} has no key ring (keys/), so neither it nor this copy can read the endpoint secrets and headers its database holds", stderr.Trim(), StringComparison.Ordinal);

        // A folder with no endpoint (only its schema) has nothing a key ring would read.
        var bare = Path.Combine(root, "bare");
        Assert.Equal(0, (await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", bare)).ExitCode);
        var quiet = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", Path.Combine(root, "bare-copy"), "--data", bare);
        Assert.Equal(0, quiet.ExitCode);

        // A backup to be made inside a file is told so, the backup named as what cannot be made.
        var file = Path.Combine(root, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");
        var inFile = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", Path.Combine(file, "copy"), "--data", bare);
        Assert.Equal(1, inFile.ExitCode);
        Assert.Contains($"{file} is a file, so the backup folder {Path.Combine(file, "copy")} cannot be made in it: give a folder for the backup", inFile.Stderr, StringComparison.Ordinal);
        Assert.Empty(quiet.Stderr);
    });

    [Fact]
    public Task Backup_IntoAFolderThatHoldsSomething_IsRefused_LeavingItAsItWas() => WithFolderAsync(async root =>
    {
        var data = Path.Combine(root, "data");
        Assert.Equal(0, (await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data)).ExitCode);
        var taken = Directory.CreateDirectory(Path.Combine(root, "taken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(taken, "notes.txt"), "mine");

        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", taken, "--data", data);
        Assert.Equal(1, code);
        Assert.Equal($"herald: backup failed: {taken} exists and is not an empty folder; name a new one", stderr.Trim());
        Assert.Empty(stdout);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(taken).Select(Path.GetFileName));
    });

    [Fact]
    public Task Backup_IntoAnEmptyFolder_MakesItTheOwnersAlone() => WithFolderAsync(async root =>
    {
        var data = Path.Combine(root, "data");
        Assert.Equal(0, (await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data)).ExitCode);
        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(empty, (UnixFileMode)0b111_101_101);
        }

        var (code, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", empty, "--data", data);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(empty, "herald.db")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(empty));
        }
    });

    [Fact]
    public Task Backup_KilledWhileCopyingTheKeyRing_LeavesNoDatabaseThatCouldPassForABackup() => WithFolderAsync(async root =>
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var data = Path.Combine(root, "data");
        var copy = Path.Combine(root, "copy");
        Assert.Equal(0, (await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data)).ExitCode);
        // A key file that is a named pipe holds the copy at the key ring, after the database's
        // snapshot, until the process is killed there (as a power cut or SIGKILL would).
        var keys = Directory.CreateDirectory(Path.Combine(data, "keys")).FullName;
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(keys, "key-held.xml")))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        using var backup = HeraldProcess.Start("backup", copy, "--data", data);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!Directory.Exists(Path.Combine(copy, "keys")) && !backup.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            Assert.True(Directory.Exists(Path.Combine(copy, "keys")), "the backup never reached the key ring");
            Assert.False(File.Exists(Path.Combine(copy, "herald.db")),
                "a copy without its key ring is in place as herald.db: a node started on it reads no endpoint's secret");
        }
        finally
        {
            backup.Kill(entireProcessTree: true);
            await backup.WaitForExitAsync();
        }
        Assert.False(File.Exists(Path.Combine(copy, "herald.db")));
    });

    [Fact]
    public Task Backup_StoppedWhileCopyingTheDatabase_LeavesNothingAtTheDestination() => WithFolderAsync(async root =>
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var data = Path.Combine(root, "data");
        var copy = Path.Combine(root, "copy");
        Assert.Equal(0, (await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data)).ExitCode);
        // A database large enough that its copy is still being written when the signal comes.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "herald.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var fill = connection.CreateCommand();
            fill.CommandText = "CREATE TABLE ballast(b BLOB); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 4000) INSERT INTO ballast SELECT randomblob(100000) FROM n;";
            await fill.ExecuteNonQueryAsync();
        }

        using var backup = HeraldProcess.Start("backup", copy, "--data", data);
        var stderr = backup.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Path.Combine(copy, "herald.db.partial")) && !backup.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        if (backup.HasExited)
        {
            Assert.Fail($"the backup ended before it could be stopped (exit {backup.ExitCode}): {await stderr}");
        }
        // SIGTERM, which backup takes as it takes Ctrl+C's SIGINT: a test run started in the background
        // (`./test.sh &`) has SIGINT ignored, and so has every process it starts.
        using (var kill = Process.Start("kill", ["-TERM", backup.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await backup.WaitForExitAsync(bounded.Token);
        }

        Assert.NotEqual(0, backup.ExitCode);
        // Stopped, the backup takes away what it wrote (hundreds of megabytes of a database's partial
        // copy stayed, and the folder, which a backup to it again refused as taken).
        Assert.False(Directory.Exists(copy), string.Join(", ", Directory.Exists(copy) ? Directory.EnumerateFileSystemEntries(copy) : []));
        Assert.Equal($"herald: backup stopped: nothing of it is left at {copy}", (await stderr).Trim());
    });

    [Fact]
    public Task Backup_OfAFolderWithoutADatabase_SaysSo_AndMakesNothing() => WithFolderAsync(async root =>
    {
        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        var copy = Path.Combine(root, "copy");
        var (code, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", copy, "--data", empty);
        Assert.Equal(1, code);
        Assert.StartsWith($"herald: backup failed: there is no Herald database at {Path.Combine(empty, "herald.db")}", stderr.Trim(), StringComparison.Ordinal);
        Assert.Contains("pg_dump", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(copy));
    });
}
