using System.Net;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>The options of <c>herald serve</c> reach the node: HTTPS and the API rate limit.</summary>
public sealed class ServeOptionsTests : IDisposable
{
    private readonly SelfSignedCertificate _certificate = new();

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Serve_WithJsonLogs_WritesEachLogAsOneJsonObjectALine()
    {
        await using var node = await HeraldProcess.ServeAsync(["--data", Path.Combine(_certificate.Folder, "json-logs"), "--log-format", "json"], "http", null,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Information" });
        await node.WaitForOutputAsync("Delivery workers started");
        var logs = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(logs);
        foreach (var line in logs)
        {
            var entry = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
            Assert.NotNull(entry["Timestamp"]);
            Assert.NotNull(entry["Category"]);
        }
        var started = logs.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).Single(l => l["Message"]!.GetValue<string>().StartsWith("Delivery workers started", StringComparison.Ordinal));
        Assert.Equal(64, started["State"]!["MaxConcurrency"]!.GetValue<int>());
    }

    /// <summary>
    /// A machine set to Thai, globalization on: a log line's time is still the day's UTC time in the
    /// Gregorian calendar (Thai's counts 543 years more), as a log collector reads it.
    /// </summary>
    [Fact]
    public async Task Serve_WithJsonLogsUnderAnotherCalendar_StampsEachLineWithTheGregorianUtcTime()
    {
        var before = DateTimeOffset.UtcNow;
        await using var node = await HeraldProcess.ServeAsync(["--data", Path.Combine(_certificate.Folder, "json-logs-thai"), "--log-format", "json"], "http", null,
            new Dictionary<string, string>(ServeAndMigrateTests.WithLanguage("th_TH.UTF-8")) { ["Logging__LogLevel__Default"] = "Information" });
        await node.WaitForOutputAsync("Delivery workers started");
        var stamps = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{'))
            .Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["Timestamp"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(stamps);
        foreach (var stamp in stamps)
        {
            var at = DateTimeOffset.ParseExact(stamp, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
            Assert.InRange(at, before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));
        }
    }

    /// <summary>
    /// Starts <c>herald serve</c> with no admin key given (so it makes one), and answers its
    /// standard output and error apart once <paramref name="until"/> shows on either, or it exits.
    /// </summary>
    private static async Task<(string Stdout, string Stderr, bool Exited)> ServeMakingAnAdminKeyAsync(string[] args, string until)
    {
        using var process = HeraldProcess.Start(["serve", "--urls", "http://127.0.0.1:0", .. args],
            new Dictionary<string, string> { ["HERALD_ADMIN_KEY"] = HeraldProcess.Unset, ["Logging__LogLevel__Default"] = "Information" });
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool Seen()
        {
            lock (stdout)
            {
                lock (stderr)
                {
                    return stdout.ToString().Contains(until, StringComparison.Ordinal) || stderr.ToString().Contains(until, StringComparison.Ordinal);
                }
            }
        }
        while (!process.HasExited && !Seen() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        var exited = process.HasExited;
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        lock (stdout)
        {
            lock (stderr)
            {
                return (stdout.ToString(), stderr.ToString(), exited);
            }
        }
    }

    [Fact]
    public async Task Serve_WithJsonLogs_KeepsStandardOutputForTheLog_AndDoesNotPrintAnAdminKeyItMakes()
    {
        var data = Path.Combine(_certificate.Folder, "json-logs-new");
        var (stdout, stderr, _) = await ServeMakingAnAdminKeyAsync(["--data", data, "--log-format", "json"], "Herald listening on");

        // Every line a collector reads from standard output is one JSON object.
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.Contains("Delivery workers started", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.IsType<System.Text.Json.Nodes.JsonObject>(System.Text.Json.Nodes.JsonNode.Parse(l)));
        // What is said to the operator is on standard error; the key made is only in its file.
        Assert.Contains("Herald listening on", stderr, StringComparison.Ordinal);
        Assert.Contains($"Admin key: made and kept in {Path.Combine(data, "admin.key")} (not printed with --log-format json: read it there)", stderr, StringComparison.Ordinal);
        var key = (await File.ReadAllTextAsync(Path.Combine(data, "admin.key"))).Trim();
        Assert.StartsWith("hk_admin_", key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StoppedBeforeItShowsTheAdminKeyItMade_LeavesNoneBehind_AndTheNextStartShowsOne()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var data = Path.Combine(_certificate.Folder, "stopped-starting");
        using var process = HeraldProcess.Start(["serve", "--urls", "http://127.0.0.1:0", "--data", data],
            new Dictionary<string, string> { ["HERALD_ADMIN_KEY"] = HeraldProcess.Unset });
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // The key is written when the node is built, and shown once its database is migrated.
        while (!File.Exists(Path.Combine(data, "admin.key")) && !process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(2);
        }
        // SIGTERM, which the node takes as it takes Ctrl+C's SIGINT: a test run started in the background
        // (`./test.sh &`) has SIGINT ignored, and so has every process it starts.
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using (var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        var said = await stdout + await stderr;
        if (!said.Contains("Admin key (shown once", StringComparison.Ordinal))
        {
            // Stopped before it was shown: a key nobody saw is not kept, and the next start makes one and shows it.
            Assert.False(File.Exists(Path.Combine(data, "admin.key")), "a key nobody was shown is kept: " + said);
            Assert.Equal(143, process.ExitCode);
            var (again, _, _) = await ServeMakingAnAdminKeyAsync(["--data", data], "Herald listening on");
            Assert.Contains("Admin key (shown once, kept in", again, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("pem", "(no --https-key was given: give the certificate's private key with --https-key, or put it in the same file)")]
    [InlineData("pfx", "(no password was given: set HERALD_HTTPS_CERT_PASSWORD)")]
    [InlineData("encrypted", "(its private key is encrypted, which Herald does not read in a PEM: give it unencrypted, readable by Herald's user alone, or use a .pfx and its password)")]
    public async Task Serve_WithAnHttpsCertificateLeftWithoutItsKeyOrPassword_SaysWhichWasLeftOut(string kind, string hint)
    {
        var certificate = kind switch { "pem" => _certificate.PemPath, "pfx" => _certificate.PfxPath, _ => Path.Combine(_certificate.Folder, "encrypted.pem") };
        if (kind == "encrypted")
        {
            // The certificate with its key in the same file, the key encrypted.
            using var key = System.Security.Cryptography.RSA.Create();
            key.ImportFromPem(await File.ReadAllTextAsync(_certificate.KeyPath));
            var encrypted = key.ExportEncryptedPkcs8PrivateKeyPem("pw",
                new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 100_000));
            await File.WriteAllTextAsync(certificate, await File.ReadAllTextAsync(_certificate.PemPath) + encrypted);
        }
        var (exitCode, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            ["serve", "--urls", "https://127.0.0.1:0", "--data", Path.Combine(_certificate.Folder, "left-out-" + kind), "--https-cert", certificate],
            new Dictionary<string, string> { ["HERALD_HTTPS_CERT_PASSWORD"] = HeraldProcess.Unset });
        Assert.Equal(1, exitCode);
        Assert.StartsWith($"herald: cannot start: cannot read the HTTPS certificate {certificate}: ", stderr.Trim(), StringComparison.Ordinal);
        Assert.EndsWith(hint, stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithAKeysCertificateWithoutItsKey_StopsBeforeMakingAnAdminKeyNobodyIsShown()
    {
        var data = Path.Combine(_certificate.Folder, "keys-cert-only");
        // The certificate alone, without its private key: the key ring could not be read back with it.
        var (stdout, stderr, exited) = await ServeMakingAnAdminKeyAsync(["--data", data, "--keys-cert", _certificate.PemPath], "Herald listening on");
        Assert.True(exited, "the node started: " + stdout + stderr);
        Assert.StartsWith("herald: cannot start: cannot read the keys certificate", stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("Admin key", stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "admin.key")));

        // Started again as it should have been, it makes a key and shows it.
        var (again, _, _) = await ServeMakingAnAdminKeyAsync(["--data", data], "Herald listening on");
        Assert.Contains("Admin key (shown once, kept in", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithHttpsCertAndRateLimit_AnswersOverHttpsWithHsts_AndThrottlesAKey()
    {
        await using var node = await HeraldProcess.ServeAsync(
            ["--data", Path.Combine(_certificate.Folder, "data"), "--https-cert", _certificate.PemPath, "--https-key", _certificate.KeyPath, "--rate-limit", "2"],
            "https", address => _certificate.TrustingClient(address));
        using var client = _certificate.TrustingClient(new Uri(node.Url));

        var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("max-age=", health.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

        // A rate of 2/s with a burst of 4: ten calls at once cannot all pass.
        client.DefaultRequestHeaders.Authorization = new("Bearer", HeraldProcess.AdminKey);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ => (await client.GetAsync("/v1/notifications")).StatusCode));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }
}
