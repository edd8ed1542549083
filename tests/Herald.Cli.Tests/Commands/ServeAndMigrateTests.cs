using DbUp;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Cli.Tests.Commands;

public sealed class ServeAndMigrateTests
{
    /// <summary>Runs <paramref name="test"/> with a data folder of its own, removed afterwards if it was made.</summary>
    private static async Task WithDataAsync(Func<string, Task> test)
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            await test(data);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("serve", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3", "cannot reach PostgreSQL at 127.0.0.1:1: Connection refused")]
    [InlineData("migrate", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3", "cannot reach PostgreSQL at 127.0.0.1:1: Connection refused")]
    [InlineData("serve", "Host=herald-no-such-host.invalid;Username=nobody;Timeout=3", "cannot reach PostgreSQL at herald-no-such-host.invalid:5432: ")]
    [InlineData("serve", "Host=127.0.0.1;Max Pool Size=30", "herald: cannot start: the connection string's 'max pool size' is not a setting Npgsql knows (the settings: https://www.npgsql.org/doc/connection-string-parameters.html)")]
    [InlineData("migrate", "Host=127.0.0.1;Usrname=herald", "herald: migration failed: the connection string's 'usrname' is not a setting Npgsql knows (the settings: https://www.npgsql.org/doc/connection-string-parameters.html)")]
    [InlineData("migrate", "Host=127.0.0.1;Port=abc", "herald: migration failed: the connection string's 'port' has a value Npgsql cannot read: ")]
    [InlineData("migrate", "bogus", "herald: migration failed: the connection string does not read as one: give settings as key=value pairs separated by ';', such as Host=db.internal;Database=herald;Username=herald")]
    [InlineData("serve", "bogus", "herald: cannot start: the connection string does not read as one: give settings as key=value pairs separated by ';', such as Host=db.internal;Database=herald;Username=herald")]
    public Task ServeOrMigrate_WithADatabaseThatCannotBeReachedOrAConnectionStringNotRead_SaysWhatIsWrongInOneLine(string command, string connectionString, string said) => WithDataAsync(async data =>
    {
        string[] args = command == "serve"
            ? ["serve", "--urls", "http://127.0.0.1:0", "--data", data, "--postgres", connectionString]
            : ["migrate", "--data", data, "--postgres", connectionString];
        var (code, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args);
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(said, line, StringComparison.Ordinal);
        // A start refused so leaves no data folder it made behind.
        if (command == "serve")
        {
            Assert.False(Directory.Exists(data), $"{data} was left behind");
        }
    });

    [Fact]
    public Task ASecondNodeOrAMigrationOnASqliteDataFolderInUse_IsRefusedInOneLine_AndTheFolderIsFreeOnceTheNodeIsGone() => WithDataAsync(async data =>
    {
        var first = await HeraldProcess.ServeAsync("--dev", "--data", data);
        try
        {
            var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "serve", "--urls", "http://127.0.0.1:0", "--dev", "--data", data);
            Assert.Equal(1, code);
            Assert.Equal($"herald: {Path.GetFullPath(data)} is in use by another Herald node (it holds herald.lock there): one node serves a SQLite data folder; stop the other, give this one a --data of its own, or run several nodes on PostgreSQL (--postgres).",
                stderr.Trim());
            Assert.DoesNotContain("Admin key", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Herald listening", stdout, StringComparison.Ordinal);
            // Nor is its schema changed under it.
            var migrate = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data);
            Assert.Equal(1, migrate.ExitCode);
            Assert.Equal($"herald: {Path.GetFullPath(data)} is in use by a running Herald node (it holds herald.lock there): stop it, then migrate.", migrate.Stderr.Trim());

            // Killed outright, the first leaves the folder free: the system lets go of its lock.
            first.Kill();
            await first.DisposeAsync();
            first = await HeraldProcess.ServeAsync("--dev", "--data", data);
            using var http = new HttpClient();
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(first.Url + "/readyz")).StatusCode);
        }
        finally
        {
            await first.DisposeAsync();
        }
    });

    [Fact]
    public Task Serve_WithUnreachableDatabase_ExitsNonZeroWithOneClearLine() => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--postgres", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3");
        Assert.NotEqual(0, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("herald: cannot start:", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    });

    [Theory]
    [InlineData("serve", "herald: cannot start: ")]
    [InlineData("migrate", "herald: migration failed: ")]
    public Task ServeOrMigrate_OnADamagedDatabaseFile_SaysSoAndHowToRecover_InOneLine(string command, string start) => WithDataAsync(async data =>
    {
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "herald.db"), new string('x', 8192));
        string[] arguments = command == "serve" ? ["serve", "--urls", "http://127.0.0.1:0", "--data", data] : ["migrate", "--data", data];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), arguments);
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(start, line, StringComparison.Ordinal);
        Assert.Contains("herald.db is damaged, or is not Herald's database: stop Herald and restore the folder from a backup", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        // The file is left as it was, for the operator to look at, and nothing of the failed start beside it.
        Assert.Equal(new string('x', 8192), await File.ReadAllTextAsync(Path.Combine(data, "herald.db")));
        Assert.False(Directory.Exists(Path.Combine(data, "keys")), "a key ring was left by the failed start");
        Assert.False(File.Exists(Path.Combine(data, "admin.key")), "an admin key was left by the failed start");
        Assert.Equal(["herald.db"], Directory.EnumerateFileSystemEntries(data).Select(Path.GetFileName));
    });

    [Fact]
    public Task Serve_WithACertificateButOnlyPlainHttpAddresses_RefusesToStart() => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--https-cert", "/tmp/herald-no-such-cert.pem");
        Assert.NotEqual(0, code);
        Assert.Equal("herald: --https-cert is given, but --urls has no https:// address to serve it on: add one (--urls https://0.0.0.0:5443), or leave --urls out.",
            stderr.Trim());
        Assert.DoesNotContain("Herald listening", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("--urls", "https://127.0.0.1:0")]
    [InlineData("--metrics-urls", "https://127.0.0.1:9464")]
    public Task Serve_WithAnHttpsAddressButNoCertificate_RefusesInOneLineBeforeMakingAnAdminKey(string option, string address) => WithDataAsync(async data =>
    {
        string[] args = option == "--urls"
            ? ["serve", "--urls", address, "--data", data]
            : ["serve", "--urls", "http://127.0.0.1:0", "--metrics-urls", address, "--data", data];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args);
        Assert.NotEqual(0, code);
        Assert.Equal($"herald: {option} '{address}' is an https:// address, but no --https-cert is given to serve it with: give one, or use http://.",
            stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("HERALD_URLS", "https://127.0.0.1:0", "HERALD_URLS 'https://127.0.0.1:0' is an https:// address, but no --https-cert is given to serve it with: give one, or use http://.")]
    [InlineData("HERALD_METRICS_URLS", "junk", "HERALD_METRICS_URLS 'junk' is not an http:// or https:// address with a port, such as http://0.0.0.0:9464.")]
    [InlineData("HERALD_HTTPS_CERT", "/tmp/herald-no-such-cert.pem", "--https-cert is given, but --urls has no https:// address to serve it on: add one (--urls https://0.0.0.0:5443), or leave --urls out.")]
    [InlineData("HERALD_LOG_FORMAT", "JSON", "HERALD_LOG_FORMAT 'JSON' is neither text nor json, the values --log-format takes.")]
    [InlineData("HERALD_METRICS_URLS", "", "HERALD_METRICS_URLS is set but empty: give it an address for the metrics' listener, such as http://0.0.0.0:9464, or unset it to read /metrics on --urls with the admin key.")]
    public Task Serve_WithAnEnvironmentDefaultOutOfItsRules_RefusesInOneLineAsForTheOption(string variable, string value, string said) => WithDataAsync(async data =>
    {
        string[] args = variable == "HERALD_URLS" ? ["serve", "--data", data] : ["serve", "--urls", "http://127.0.0.1:0", "--data", data];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args, new Dictionary<string, string> { [variable] = value });
        Assert.NotEqual(0, code);
        Assert.Equal("herald: " + said, stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Fact]
    public Task Serve_WithALogLevelLoggingDoesNotKnow_NamesTheSettingAndTheLevels_AndLeavesNoKeyUnshown() => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            ["serve", "--urls", "http://127.0.0.1:0", "--data", data], new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Verbose" });
        Assert.NotEqual(0, code);
        Assert.Equal("herald: cannot start: a log level is 'Verbose' (a Logging__LogLevel__ variable, or Logging:LogLevel in appsettings.json): give one of Trace, Debug, Information, Warning, Error, Critical or None",
            stderr.Trim());
        Assert.DoesNotContain("Admin key", stdout, StringComparison.Ordinal);
        // The folder it made held an admin key never shown: gone with it, the next start makes one and shows it.
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("0.0.0.0", "127.0.0.1")]
    // localhost is both loopback addresses to the server.
    [InlineData("localhost", "[::1]")]
    public Task Serve_WithAPortNamedTwice_RefusesInOneLineBeforeMakingAnAdminKey(string firstHost, string secondHost) => WithDataAsync(async data =>
    {
        var port = HeraldProcess.FreePort();
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", $"http://{firstHost}:{port};http://{secondHost}:{port}", "--data", data);
        Assert.NotEqual(0, code);
        Assert.Equal($"herald: cannot listen on http://{secondHost}:{port}: an address named before it takes its port already; name each port once.", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Fact]
    public Task Serve_WithAMissingKeysCertificate_ExitsNonZeroNamingIt() => WithDataAsync(async data =>
    {
        var (code, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--keys-cert", "/nonexistent/keys.pfx");
        Assert.NotEqual(0, code);
        Assert.Equal("herald: cannot start: the keys certificate /nonexistent/keys.pfx does not exist", stderr.Trim());
        // The data folder this start made for itself (a mistyped --data, say) is not left behind, holding only its lock.
        Assert.False(Directory.Exists(data));
    });

    [Fact]
    public Task Serve_WithAMissingHttpsCertificate_LeavesNoDataFolderBehind() => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "https://127.0.0.1:0", "--data", data, "--https-cert", "/nonexistent/cert.pem");
        Assert.Equal(1, code);
        Assert.Equal("herald: cannot start: the HTTPS certificate /nonexistent/cert.pem does not exist", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Fact]
    public Task Serve_WithAFolderForItsCertificate_SaysItIsAFolder() => WithDataAsync(async data =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "herald-cert-folder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
                "serve", "--urls", "https://127.0.0.1:0", "--data", data, "--https-cert", folder);
            Assert.Equal(1, code);
            Assert.Equal($"herald: cannot start: the HTTPS certificate {folder} is a folder: give the certificate's file", stderr.Trim());
            Assert.Empty(stdout);
        }
        finally
        {
            Directory.Delete(folder);
        }
    });

    [Fact]
    public Task Serve_RefusedOnAFolderThatWasThere_LeavesItAsItWas() => WithDataAsync(async data =>
    {
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "notes.txt"), "mine");
        var (code, _, _) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--keys-cert", "/nonexistent/keys.pfx");
        Assert.Equal(1, code);
        Assert.Contains("notes.txt", Directory.EnumerateFiles(data).Select(Path.GetFileName));
    });

    [Theory]
    [InlineData("0")]
    [InlineData("10001")]
    public Task Serve_WithConcurrencyOutOfBounds_ExitsNonZeroNamingTheBounds(string concurrency) => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--concurrency", concurrency);
        Assert.NotEqual(0, code);
        Assert.Equal("herald: --concurrency must be between 1 and 10,000 attempts in flight.", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    /// <summary>
    /// A machine whose language writes numbers otherwise (German's 86.400, Persian's digits), with
    /// globalization turned back on as images that install ICU do: the refusal reads as the docs show it.
    /// </summary>
    [Theory]
    [InlineData("de_DE.UTF-8")]
    [InlineData("fa_IR.UTF-8")]
    public Task Serve_UnderAnotherLanguage_SaysNumbersAsTheDocsDo(string language) => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            ["serve", "--urls", "http://127.0.0.1:0", "--data", data, "--lease-seconds", "1"], WithLanguage(language));
        Assert.NotEqual(0, code);
        Assert.Equal("herald: --lease-seconds must be between 2 and 86,400 seconds.", stderr.Trim());
        Assert.Empty(stdout);
    });

    /// <summary>The environment of a machine set to <paramref name="language"/>, with .NET's globalization (ICU) on.</summary>
    internal static Dictionary<string, string> WithLanguage(string language) => new()
    {
        ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "0",
        ["LANG"] = language,
        ["LC_ALL"] = language,
    };

    [Theory]
    [InlineData("--allow-network", "notacidr", "--allow-network 'notacidr' is not a CIDR such as 10.20.0.0/16.")]
    [InlineData("--allow-network", "0.0.0.0/0", "--allow-network '0.0.0.0/0' may not be allowed: it covers 0.0.0.0/8 ('this network' addresses (0.0.0.0 reaches the node itself)), which endpoints may never reach; name the private network endpoints are in, such as 10.20.0.0/16.")]
    [InlineData("--allow-network", "169.254.169.0/24", "--allow-network '169.254.169.0/24' may not be allowed: it covers 169.254.0.0/16 (link-local addresses (the cloud's metadata service)), which endpoints may never reach; name the private network endpoints are in, such as 10.20.0.0/16.")]
    [InlineData("--allow-network", "::/0", "--allow-network '::/0' may not be allowed: it covers ::/128 (the unspecified address), which endpoints may never reach; name the private network endpoints are in, such as 10.20.0.0/16.")]
    [InlineData("--lease-seconds", "1", "--lease-seconds must be between 2 and 86,400 seconds.")]
    [InlineData("--lease-seconds", "100000000", "--lease-seconds must be between 2 and 86,400 seconds.")]
    [InlineData("--retention-days", "-1", "--retention-days must be 0 (keep everything) or a number of days up to 36,500.")]
    [InlineData("--urls", "notaurl", "--urls 'notaurl' is not an http:// or https:// address such as http://127.0.0.1:5080.")]
    [InlineData("--urls", "http://127.0.0.1:5999 --metrics-urls http://0.0.0.0:5999", "--metrics-urls 'http://0.0.0.0:5999' has the port of an --urls address: the metrics listener needs a port of its own.")]
    [InlineData("--metrics-urls", "notaurl", "--metrics-urls 'notaurl' is not an http:// or https:// address with a port, such as http://0.0.0.0:9464.")]
    [InlineData("--metrics-urls", "http://127.0.0.1:0", "--metrics-urls 'http://127.0.0.1:0' is not an http:// or https:// address with a port, such as http://0.0.0.0:9464.")]
    [InlineData("--urls", "http://127.0.0.1:5999/herald", "--urls 'http://127.0.0.1:5999/herald' has a path: Herald listens at an address's root, such as http://127.0.0.1:5080.")]
    [InlineData("--metrics-urls", "http://127.0.0.1:5999/prometheus", "--metrics-urls 'http://127.0.0.1:5999/prometheus' has a path: the metrics listener answers at its root (/metrics), such as http://0.0.0.0:9464.")]
    [InlineData("--rate-limit", "10 --rate-limit 20", "Option '--rate-limit' expects a single argument but 2 were provided.")]
    // A host name is listened under on every address the machine has, whatever the name's own.
    [InlineData("--urls", "http://herald.example.invalid:5999", "--urls 'http://herald.example.invalid:5999' names the host 'herald.example.invalid', under which the server listens on every address of the machine: give the address to listen on (127.0.0.1 for this machine alone, 0.0.0.0 for every one), or localhost.")]
    [InlineData("--metrics-urls", "http://metrics.internal:9464", "--metrics-urls 'http://metrics.internal:9464' names the host 'metrics.internal', under which the server listens on every address of the machine: give the address to listen on (127.0.0.1 for this machine alone, 0.0.0.0 for every one), or localhost.")]
    [InlineData("--rate-limit", "abc", "--rate-limit must be a whole number, not 'abc'.")]
    [InlineData("--lease-seconds", "1.5", "--lease-seconds must be a whole number, not '1.5'.")]
    [InlineData("--concurrency", "99999999999", "--concurrency '99999999999' is out of range.")]
    [InlineData("--auto-disable-days", "-2", "--auto-disable-days must be 0 (never) or a number of days up to 36,500.")]
    [InlineData("--auto-disable-days", "999999999", "--auto-disable-days must be 0 (never) or a number of days up to 36,500.")]
    [InlineData("--rate-limit", "-1", "--rate-limit must be 0 (off) or a number of requests per second up to 1,000,000.")]
    [InlineData("--rate-limit", "2000000000", "--rate-limit must be 0 (off) or a number of requests per second up to 1,000,000.")]
    [InlineData("--shutdown-grace-seconds", "601", "--shutdown-grace-seconds must be between 0 and 600 seconds.")]
    [InlineData("--trusted-proxy", "999.1.1.1", "--trusted-proxy '999.1.1.1' is neither an address nor a CIDR network such as 10.0.0.0/8.")]
    [InlineData("--trusted-proxy", "10.0.0.0/99", "--trusted-proxy '10.0.0.0/99' is neither an address nor a CIDR network such as 10.0.0.0/8.")]
    [InlineData("--public-url", "hooks.example.com", "--public-url 'hooks.example.com' is not an http:// or https:// address such as https://hooks.example.com.")]
    [InlineData("--public-url", "https://hooks.example.com/?tenant=1", "--public-url 'https://hooks.example.com/?tenant=1' has a query, a fragment or a user: give the address alone, such as https://hooks.example.com.")]
    [InlineData("--metrics-urls", "", "--metrics-urls is empty: give an address for the metrics' listener, such as http://0.0.0.0:9464, or leave --metrics-urls out to read /metrics on --urls with the admin key.")]
    [InlineData("--https-key", "/tmp/herald-no-such-key.pem", "--https-key (or HERALD_HTTPS_KEY) is the key of --https-cert, which is not given: give both, or neither.")]
    public Task Serve_WithAnOptionOutOfItsRules_SaysWhichInOneLine_BeforeMakingAnything(string option, string value, string message) => WithDataAsync(async data =>
    {
        // A value with spaces is several arguments (the option given again, say).
        string[] arguments = option == "--urls"
            ? ["serve", "--data", data, option, .. value.Split(' ')]
            : ["serve", "--urls", "http://127.0.0.1:0", "--data", data, option, .. value.Split(' ')];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), arguments);
        Assert.NotEqual(0, code);
        // The line alone: no help after it, no stack trace.
        Assert.Equal("herald: " + message, stderr.Trim());
        // Nothing was made: no data folder, no admin key shown.
        Assert.False(Directory.Exists(data));
        Assert.Empty(stdout);
    });

    [Fact]
    public Task Serve_OnAPortAnotherProcessHolds_SaysSoInOneLine_BeforeMakingAnything() => WithDataAsync(async data =>
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", $"http://localhost:{port}", "--data", data);

        Assert.NotEqual(0, code);
        Assert.Equal($"herald: cannot listen on http://localhost:{port}: its port is in use by another process (another Herald node?); stop it, or choose another with --urls.", stderr.Trim());
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        // Refused before anything started: no data folder, no admin key, no delivery worker.
        Assert.False(Directory.Exists(data));
        Assert.DoesNotContain("Admin key", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Delivery workers started", stdout, StringComparison.Ordinal);
    });

    [Fact]
    public Task Serve_OnAnAddressThisMachineDoesNotHave_SaysSoInOneLine_BeforeMakingAnything() => WithDataAsync(async data =>
    {
        // 192.0.2.0/24 is for documentation alone: no machine has it.
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60),
            "serve", "--urls", "http://192.0.2.1:5999", "--data", data);

        Assert.Equal(1, code);
        Assert.Equal("herald: cannot listen on http://192.0.2.1:5999: this machine has no address 192.0.2.1; give one of its own with --urls (0.0.0.0 listens on every one).", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("--urls")]
    [InlineData("--metrics-urls")]
    [InlineData("--https-cert")]
    [InlineData("--public-url")]
    [InlineData("--allow-network")]
    [InlineData("--trusted-proxy")]
    public Task Serve_WithAnOptionGivenNoValue_SaysSoInOneLine_RatherThanAStackTrace(string option) => WithDataAsync(async data =>
    {
        // The option last, its value forgotten: the parser's own line, as for --data.
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "serve", "--data", data, option);
        Assert.Equal(1, code);
        Assert.Equal($"herald: Required argument missing for option: '{option}'.", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("serve --urls http://127.0.0.1:0 --data", "--data is empty: give the data folder, or leave --data out to use ./herald-data.")]
    [InlineData("migrate --data", "--data is empty: give the data folder, or leave --data out to use ./herald-data.")]
    [InlineData("backup {0} --data", "--data is empty: give the data folder, or leave --data out to use ./herald-data.")]
    [InlineData("serve --data {0} --urls", "--urls is empty: give an address such as http://127.0.0.1:5080, or leave --urls out.")]
    public Task Command_WithAnOptionGivenEmpty_RefusesInOneLine_RatherThanAStackTraceOrADefaultOfItsOwn(string arguments, string message) => WithDataAsync(async data =>
    {
        // Given empty (a variable left unset in a script, say): no folder is named "", and Kestrel
        // listened on localhost:5000 of its own accord.
        string[] args = [.. string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, data).Split(' '), ""];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args);
        Assert.Equal(1, code);
        Assert.Equal("herald: " + message, stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("HERALD_DATA", "serve --urls http://127.0.0.1:0", "HERALD_DATA is set but empty: give it the data folder, or unset it to use ./herald-data.")]
    [InlineData("HERALD_DATA", "migrate", "HERALD_DATA is set but empty: give it the data folder, or unset it to use ./herald-data.")]
    [InlineData("HERALD_URLS", "serve --data {0}", "HERALD_URLS is set but empty: give it an address such as http://127.0.0.1:5080, or unset it.")]
    // Read as unset, it had the node make a key of its own and print it, while the operator meant theirs.
    [InlineData("HERALD_ADMIN_KEY", "serve --urls http://127.0.0.1:0 --data {0}", "HERALD_ADMIN_KEY is set but empty: give it the admin key (at least 24 characters), or unset it to have Herald make one.")]
    public Task Command_WithADefaultsVariableSetEmpty_RefusesInOneLine(string variable, string arguments, string message) => WithDataAsync(async data =>
    {
        var args = string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, data).Split(' ');
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args, new Dictionary<string, string> { [variable] = "" });
        Assert.Equal(1, code);
        Assert.Equal("herald: " + message, stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("serve --urls http://127.0.0.1:0 --data {0}", "herald: cannot start: {0} is a file, not a folder: give a folder for the data (a new one is made)")]
    [InlineData("migrate --data {0}", "herald: migration failed: {0} is a file, not a folder: give a folder for the data (a new one is made)")]
    [InlineData("serve --urls http://127.0.0.1:0 --data {0}/data", "herald: cannot start: {0} is a file, so the data folder {0}/data cannot be made in it: give a folder for the data (a new one is made)")]
    [InlineData("migrate --data {0}/data", "herald: migration failed: {0} is a file, so the data folder {0}/data cannot be made in it: give a folder for the data (a new one is made)")]
    public async Task ServeOrMigrate_WithADataFolderThatIsAFile_SaysSoInOneLine(string arguments, string message)
    {
        var file = Path.Combine(Path.GetTempPath(), "herald-cli-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(file, "not a folder");
        try
        {
            var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, file).Split(' '));
            Assert.Equal(1, code);
            Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, file), stderr.Trim());
            Assert.Empty(stdout);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public Task Backup_ToAFolderGivenEmpty_RefusesInOneLine() => WithDataAsync(async data =>
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "backup", "", "--data", data);
        Assert.Equal(1, code);
        Assert.Equal("herald: The folder to copy to is empty: name a new folder, or an empty one.", stderr.Trim());
        Assert.Empty(stdout);
    });

    [Theory]
    [InlineData("serve", "")]
    [InlineData("serve", " ")]
    [InlineData("migrate", "")]
    public Task ServeOrMigrate_WithAnEmptyPostgresOption_RefusesRatherThanRunningOnSqlite(string command, string value) => WithDataAsync(async data =>
    {
        string[] args = command == "serve" ? ["serve", "--urls", "http://127.0.0.1:0", "--data", data, "--postgres", value] : ["migrate", "--data", data, "--postgres", value];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args);
        Assert.NotEqual(0, code);
        Assert.Equal("herald: --postgres is empty: give a PostgreSQL connection string, or leave --postgres out to use SQLite in --data.", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Theory]
    [InlineData("serve")]
    [InlineData("migrate")]
    public Task ServeOrMigrate_WithHeraldPostgresSetEmpty_RefusesRatherThanRunningOnSqlite(string command) => WithDataAsync(async data =>
    {
        string[] args = command == "serve" ? ["serve", "--urls", "http://127.0.0.1:0", "--data", data] : ["migrate", "--data", data];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), args, new Dictionary<string, string> { ["HERALD_POSTGRES"] = "" });
        Assert.NotEqual(0, code);
        Assert.Equal("herald: HERALD_POSTGRES is set but empty: give it a PostgreSQL connection string, or unset it to use SQLite in --data.", stderr.Trim());
        Assert.Empty(stdout);
        Assert.False(Directory.Exists(data));
    });

    [Fact]
    public Task Migrate_OnSqlite_SaysWhatItApplied_ThenThatItIsUpToDate() => WithDataAsync(async data =>
    {
        var first = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("(a new database: there was none): applied 0001_initial.sql", first.Stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            // The folder Herald made for its data is its owner's alone.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        }
        var second = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--data", data);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("schema is up to date", second.Stdout, StringComparison.Ordinal);
    });

    [Fact]
    public Task Serve_OnADatabaseOfAnEarlierRelease_SaysWhatItApplied_AndNothingOnANewOne() => WithDataAsync(async data =>
    {
        // The database as a release before the last migration left it.
        Directory.CreateDirectory(data);
        var earlier = DeployChanges.To.SqliteDatabase($"Data Source={Path.Combine(data, "herald.db")}")
            .WithScriptsEmbeddedInAssembly(typeof(SqliteStore).Assembly, name => string.CompareOrdinal(name, "Herald.Storage.Sqlite.Schema.0018") < 0)
            .LogToNowhere()
            .Build();
        Assert.True(earlier.PerformUpgrade().Successful);
        SqliteConnection.ClearAllPools();

        // A node started on it upgrades it, and says so, as migrate would.
        await using (var node = await HeraldProcess.ServeAsync("--dev", "--data", data))
        {
            Assert.Contains($"{Path.Combine(data, "herald.db")}: applied 0018_api_key_scopes.sql", node.Output, StringComparison.Ordinal);
        }
        // Started again, and on a new folder, it has nothing to say of the schema.
        await using (var again = await HeraldProcess.ServeAsync("--dev", "--data", data))
        {
            Assert.DoesNotContain("applied", again.Output, StringComparison.Ordinal);
        }
        var fresh = Path.Combine(data, "new");
        await using (var first = await HeraldProcess.ServeAsync("--dev", "--data", fresh))
        {
            Assert.DoesNotContain("applied", first.Output, StringComparison.Ordinal);
        }
    });

    [Fact]
    public Task Serve_OnPostgres_SaysWhenItsOwnAdminKeyBecomesTheOneEveryNodeTakes() => WithDataAsync(async data =>
    {
        await using var db = await PostgresDatabase.CreateAsync();
        // A folder an earlier node made (on SQLite, say), its key kept there.
        const string folderKey = "hk_admin_folder_key_0123456789abcdef";
        var keyFile = Path.Combine(data, "admin.key");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(keyFile, folderKey + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await using (var first = await HeraldProcess.ServeAsync(["--data", data, "--postgres", db.ConnectionString], "http", null,
            new Dictionary<string, string> { ["HERALD_ADMIN_KEY"] = HeraldProcess.Unset }))
        {
            Assert.Contains($"Admin key: the one in {keyFile}, which the database keeps for every node sharing it", first.Output, StringComparison.Ordinal);
            Assert.Equal(System.Net.HttpStatusCode.OK, await MerchantsStatusAsync(first.Url, folderKey));
        }

        // Another node given HERALD_ADMIN_KEY replaces it for every node, and says so.
        await WithDataAsync(async other =>
        {
            await using (var second = await HeraldProcess.ServeAsync(["--data", other, "--postgres", db.ConnectionString]))
            {
                Assert.Contains("Admin key: HERALD_ADMIN_KEY's, which the database now keeps for every node sharing it (the key kept there before no longer works)",
                    second.Output, StringComparison.Ordinal);
                Assert.Equal(System.Net.HttpStatusCode.OK, await MerchantsStatusAsync(second.Url, HeraldProcess.AdminKey));
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await MerchantsStatusAsync(second.Url, folderKey));
            }
            // Started again with the same key, it replaces nothing, and says nothing of a key that no longer works.
            await using var again = await HeraldProcess.ServeAsync(["--data", other, "--postgres", db.ConnectionString]);
            Assert.Contains("Admin key: HERALD_ADMIN_KEY's, which the database keeps for every node sharing it", again.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("no longer works", again.Output, StringComparison.Ordinal);
        });
    });

    private static async Task<System.Net.HttpStatusCode> MerchantsStatusAsync(string url, string key)
    {
        using var client = new HttpClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return (await client.GetAsync(url + "/v1/merchants")).StatusCode;
    }

    [Fact]
    public async Task Migrate_OnPostgres_SaysWhatItApplied()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var first = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--postgres", db.ConnectionString);
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("PostgreSQL: applied 0001_initial.sql", first.Stdout, StringComparison.Ordinal);
        var second = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--postgres", db.ConnectionString);
        Assert.Contains("schema is up to date", second.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("serve")]
    public async Task ServeOrMigrate_WhileAnotherSessionHoldsTheMigrationLock_SaysItWaits_ThenGoesOn(string command)
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-cli-" + Guid.NewGuid().ToString("N"));
        await using var holder = new Npgsql.NpgsqlConnection(db.ConnectionString);
        await holder.OpenAsync();
        await using (var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(114784919972964)", holder))
        {
            await take.ExecuteNonQueryAsync();
        }
        using var process = HeraldProcess.Start(command == "migrate"
            ? ["migrate", "--postgres", db.ConnectionString]
            : ["serve", "--urls", $"http://127.0.0.1:{HeraldProcess.FreePort()}", "--data", data, "--postgres", db.ConnectionString]);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var said = await process.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("herald: waiting for the database's migration lock (PostgreSQL advisory lock 114784919972964), held by another node migrating or another session; nothing is migrated or served until it is let go", said);
            Assert.False(process.HasExited);
            await using (var release = new Npgsql.NpgsqlCommand("SELECT pg_advisory_unlock(114784919972964)", holder))
            {
                await release.ExecuteNonQueryAsync();
            }
            if (command == "migrate")
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(0, process.ExitCode);
                Assert.Contains("PostgreSQL: applied 0001_initial.sql", await stdout, StringComparison.Ordinal);
            }
            else
            {
                // The node goes on to start once the lock is let go.
                var deadline = DateTime.UtcNow.AddSeconds(60);
                await using var check = new Npgsql.NpgsqlConnection(db.ConnectionString);
                await check.OpenAsync();
                while (true)
                {
                    await using var applied = new Npgsql.NpgsqlCommand("SELECT to_regclass('public.notifications') IS NOT NULL", check);
                    if ((bool)(await applied.ExecuteScalarAsync())!)
                    {
                        break;
                    }
                    Assert.True(DateTime.UtcNow < deadline, "the node did not migrate once the lock was let go");
                    await Task.Delay(200);
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact]
    public Task Serve_StoppedBySigterm_SaysItStops_AndExitsCleanly_WithoutTheHostsOwnLines() => WithDataAsync(async data =>
    {
        await using var node = await HeraldProcess.ServeAsync("--dev", "--data", data, "--shutdown-grace-seconds", "3");
        Assert.Contains("Herald listening on ", node.Output, StringComparison.Ordinal);
        Assert.Equal(0, await node.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Herald stopping: attempts under way have 3 s to be answered and recorded", node.Output, StringComparison.Ordinal);
        // The host's lines say nothing an operator of Herald needs: its environment's name, its build folder.
        Assert.DoesNotContain("Hosting environment", node.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Content root path", node.Output, StringComparison.Ordinal);
    });

    [Fact]
    public async Task Migrate_OnAPostgresDatabaseThatDoesNotExist_SaysToCreateIt()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        var missing = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { Database = "herald_missing_" + Guid.NewGuid().ToString("N") }.ConnectionString;
        var (code, _, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "migrate", "--postgres", missing);
        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("herald: migration failed: 3D000", line, StringComparison.Ordinal);
        Assert.Contains("create it first", line, StringComparison.Ordinal);
    }
}
