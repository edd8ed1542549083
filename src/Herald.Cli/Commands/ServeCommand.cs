using System.CommandLine;
using Herald.Delivery;
using Herald.Server.Auth;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Herald.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen (default: HERALD_URLS, else http://127.0.0.1:5080, or https://127.0.0.1:5443 with --https-cert); several separated by ';'.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_URLS") ?? HeraldServerOptions.DefaultUrls,
        };
        var metricsUrls = new Option<string?>("--metrics-urls")
        {
            Description = "A listener of its own for Prometheus (default: HERALD_METRICS_URLS, else none), e.g. http://0.0.0.0:9464: anyone reaching it may read /metrics, /healthz and /readyz, nothing else; on --urls /metrics needs the admin key.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_METRICS_URLS"),
        };
        var data = CommonOptions.Data();
        var dev = new Option<bool>("--dev")
        {
            Description = "Development mode: endpoints may use plain http and loopback addresses.",
        };
        var postgres = CommonOptions.Postgres();
        var lease = new Option<int>("--lease-seconds")
        {
            Description = "How long a claim holds a notification (2-86,400); a node that dies gives its work back when it ends.",
            DefaultValueFactory = _ => 90,
        };
        var cert = new Option<string?>("--https-cert")
        {
            Description = "Serve HTTPS with this certificate (default: HERALD_HTTPS_CERT): a .pfx (password in HERALD_HTTPS_CERT_PASSWORD) or a .pem.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_HTTPS_CERT"),
        };
        var key = new Option<string?>("--https-key")
        {
            Description = "The PEM private key of --https-cert (default: HERALD_HTTPS_KEY).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_HTTPS_KEY"),
        };
        var keysCert = new Option<string?>("--keys-cert")
        {
            Description = "Encrypt the key ring that protects endpoint secrets with this certificate and its key (default: HERALD_KEYS_CERT; .pfx, password in HERALD_KEYS_CERT_PASSWORD, or .pem); the same on every node.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_KEYS_CERT"),
        };
        var proxies = new Option<string[]>("--trusted-proxy")
        {
            Description = "A proxy address or CIDR whose X-Forwarded-For/-Proto headers are believed (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var publicUrl = new Option<string?>("--public-url")
        {
            Description = "The address merchants reach Herald at, e.g. https://hooks.example.com (default: HERALD_PUBLIC_URL, else the address each request came in at): portal sign-in links are made with it.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_PUBLIC_URL"),
        };
        var allow = new Option<string[]>("--allow-network")
        {
            Description = "A private network (CIDR) endpoints may be in, e.g. 10.20.0.0/16 (repeatable).",
        };
        var retention = new Option<int>("--retention-days")
        {
            Description = "Purge finished notifications and their attempts after this many days (0 keeps them; at most 36,500).",
            DefaultValueFactory = _ => 30,
        };
        var rateLimit = new Option<int>("--rate-limit")
        {
            Description = "API requests per second each merchant may make, whichever of its keys (bursts up to twice that; the portal likewise, apart); 0 turns the limit off (at most 1,000,000).",
            DefaultValueFactory = _ => new HeraldServerOptions().RateLimitPerSecond,
        };
        var autoDisable = new Option<int>("--auto-disable-days")
        {
            Description = "Disable an endpoint after this many days of nothing but failures (0 never does; at most 36,500).",
            DefaultValueFactory = _ => new HeraldServerOptions().AutoDisableDays,
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Most scheduled HTTP attempts in flight at once on this node (1-10,000), all endpoints together (resends have eight of their own); raise it when receivers are slow to answer.",
            DefaultValueFactory = _ => new HeraldServerOptions().Concurrency,
        };
        var grace = new Option<int>("--shutdown-grace-seconds")
        {
            Description = "On a stop, how long attempts already sent may take to be answered and recorded (0-600); one still unanswered then is sent again by the next node.",
            DefaultValueFactory = _ => (int)new DeliveryOptions().ShutdownGrace.TotalSeconds,
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "How logs are written to standard output: text (the default, unless HERALD_LOG_FORMAT says otherwise) or json (one object a line, for a log collector).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_LOG_FORMAT") ?? "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        // Checked on the options themselves: a command's validator sees 0 for an option left to its default.
        concurrency.Check(v => v is < 1 or > DeliveryOptions.ConcurrencyLimit
            ? $"--concurrency must be between 1 and {DeliveryOptions.ConcurrencyLimit:N0} attempts in flight." : null);
        lease.Check(v => v is < 2 or > MaxLeaseSeconds ? $"--lease-seconds must be between 2 and {MaxLeaseSeconds:N0} seconds." : null);
        grace.Check(v => v is < 0 or > 600 ? "--shutdown-grace-seconds must be between 0 and 600 seconds." : null);
        retention.Check(v => v is < 0 or > 36_500 ? "--retention-days must be 0 (keep everything) or a number of days up to 36,500." : null);
        autoDisable.Check(v => v is < 0 or > 36_500 ? "--auto-disable-days must be 0 (never) or a number of days up to 36,500." : null);
        rateLimit.Check(v => v is < 0 or > MaxRateLimit ? $"--rate-limit must be 0 (off) or a number of requests per second up to {MaxRateLimit:N0}." : null);
        var command = new Command("serve", "Run a Herald node: the API, the portal and the delivery workers. The admin key is HERALD_ADMIN_KEY when set (at least 24 characters), else the one kept in the data folder's admin.key (or, on PostgreSQL, the database's), else one made on the first start and printed once (with --log-format json, only kept in admin.key).") { urls, metricsUrls, data, dev, postgres, lease, cert, key, keysCert, proxies, publicUrl, allow, retention, rateLimit, autoDisable, concurrency, grace, logFormat };
        CommonOptions.RefuseBlankPostgres(command, postgres);
        CommonOptions.RefuseBlankData(command, data);
        // Read as left out, a blank one (a template's variable unset) lost the Prometheus listener, saying nothing.
        CommonOptions.RefuseBlank(command, metricsUrls, "HERALD_METRICS_URLS", "an address for the metrics' listener, such as http://0.0.0.0:9464", "to read /metrics on --urls with the admin key");
        command.Validators.Add(result =>
        {
            // An option that did not parse (given twice, or given no value) is reported by the parser
            // itself, in one line; its value cannot be read here.
            if (result.Children.OfType<System.CommandLine.Parsing.OptionResult>().Any(o =>
                (o.Tokens.Count > 1 && o.Option.Arity.MaximumNumberOfValues == 1) || (!o.Implicit && o.Tokens.Count < o.Option.Arity.MinimumNumberOfValues)))
            {
                return;
            }
            // Checked before anything starts (nor an admin key is made): a node that cannot run says why in one line.
            foreach (var network in result.GetValue(allow) ?? [])
            {
                if (!System.Net.IPNetwork.TryParse(network, out var parsed))
                {
                    result.AddError($"--allow-network '{network}' is not a CIDR such as 10.20.0.0/16.");
                }
                else if (Herald.Delivery.Egress.EgressPolicy.AllowedNetworkRefusal(parsed) is { } why)
                {
                    result.AddError($"--allow-network '{network}' may not be allowed: {why}, which endpoints may never reach; name the private network endpoints are in, such as 10.20.0.0/16.");
                }
            }
            foreach (var proxy in result.GetValue(proxies) ?? [])
            {
                if (HeraldServerOptions.ProxyNetwork(proxy) is null)
                {
                    result.AddError($"--trusted-proxy '{proxy}' is neither an address nor a CIDR network such as 10.0.0.0/8.");
                }
            }
            // Here an option left out reads as null, not as the default it takes from the environment:
            // these are the values the node would run with.
            string? Effective(Option<string?> option, string variable) =>
                result.GetResult(option) is { Implicit: false } ? result.GetValue(option) : Environment.GetEnvironmentVariable(variable);
            var listenUrls = result.GetResult(urls) is { Implicit: false }
                ? result.GetValue(urls)
                : Environment.GetEnvironmentVariable("HERALD_URLS") ?? HeraldServerOptions.DefaultUrls;
            // An empty address list is no address: Kestrel then listened on its own default, localhost:5000.
            if (string.IsNullOrWhiteSpace((listenUrls ?? "").Replace(';', ' ')))
            {
                result.AddError(result.GetResult(urls) is { Implicit: false }
                    ? "--urls is empty: give an address such as http://127.0.0.1:5080, or leave --urls out."
                    : "HERALD_URLS is set but empty: give it an address such as http://127.0.0.1:5080, or unset it.");
            }
            // Set empty (a compose file's HERALD_PUBLIC_URL=), it is unset, as the node reads it.
            if (Effective(publicUrl, "HERALD_PUBLIC_URL") is { Length: > 0 } publicAddress && HeraldServerOptions.PublicUrlRefusal(publicAddress) is { } refusal)
            {
                var name = result.GetResult(publicUrl) is { Implicit: false } ? "--public-url" : "HERALD_PUBLIC_URL";
                result.AddError($"{name} '{publicAddress}' {refusal}.");
            }
            var certificate = Effective(cert, "HERALD_HTTPS_CERT");
            if (!string.IsNullOrEmpty(certificate) && listenUrls is { } addresses && addresses != HeraldServerOptions.DefaultUrls
                && !addresses.Split(';', StringSplitOptions.TrimEntries).Any(IsHttps))
            {
                result.AddError("--https-cert is given, but --urls has no https:// address to serve it on: add one (--urls https://0.0.0.0:5443), or leave --urls out.");
            }
            if (!string.IsNullOrEmpty(Effective(key, "HERALD_HTTPS_KEY")) && string.IsNullOrEmpty(certificate))
            {
                result.AddError("--https-key (or HERALD_HTTPS_KEY) is the key of --https-cert, which is not given: give both, or neither.");
            }
            // The parser holds --log-format to its values, but not the default it takes from the
            // environment: JSON or xml there gave text logs, an admin key made printed among them.
            if (result.GetResult(logFormat) is not { Implicit: false } && Environment.GetEnvironmentVariable("HERALD_LOG_FORMAT") is { } format
                && format is not ("text" or "json"))
            {
                result.AddError($"HERALD_LOG_FORMAT '{format}' is neither text nor json, the values --log-format takes.");
            }
            // Set blank (a secret file read empty, say), it was read as unset: the node made a key of its
            // own and printed it, and the key the operator meant was never taken.
            if (Environment.GetEnvironmentVariable("HERALD_ADMIN_KEY") is { } adminKey && string.IsNullOrWhiteSpace(adminKey))
            {
                result.AddError("HERALD_ADMIN_KEY is set but empty: give it the admin key (at least 24 characters), or unset it to have Herald make one.");
            }
            // Kestrel serves an https:// address only with a certificate: without one it failed at
            // start with a stack trace, after an admin key had been made and shown.
            var servesHttps = !string.IsNullOrEmpty(certificate);
            // A value taken from the environment is named by its variable, which is where it is to be mended.
            var urlsName = result.GetResult(urls) is { Implicit: false } || Environment.GetEnvironmentVariable("HERALD_URLS") is null ? "--urls" : "HERALD_URLS";
            var metricsName = result.GetResult(metricsUrls) is { Implicit: false } ? "--metrics-urls" : "HERALD_METRICS_URLS";
            foreach (var address in (listenUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!ListenAddresses.IsHttpAddress(address))
                {
                    result.AddError($"{urlsName} '{address}' is not an http:// or https:// address such as http://127.0.0.1:5080.");
                }
                else if (ListenAddresses.HasPath(address))
                {
                    // The server took it, and failed at start with a stack trace, after an admin key had been made and shown.
                    result.AddError($"{urlsName} '{address}' has a path: Herald listens at an address's root, such as http://127.0.0.1:5080.");
                }
                else if (ListenAddresses.HostNameRefusal(address) is { } named)
                {
                    result.AddError($"{urlsName} '{address}' {named}");
                }
                else if (!servesHttps && IsHttps(address))
                {
                    result.AddError($"{urlsName} '{address}' is an https:// address, but no --https-cert is given to serve it with: give one, or use http://.");
                }
            }
            var apiPorts = ListensOn(listenUrls, certificate).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(ListenAddresses.PortOf).ToHashSet();
            foreach (var address in (Effective(metricsUrls, "HERALD_METRICS_URLS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!ListenAddresses.IsHttpAddress(address) || ListenAddresses.PortOf(address) is not > 0)
                {
                    result.AddError($"{metricsName} '{address}' is not an http:// or https:// address with a port, such as http://0.0.0.0:9464.");
                }
                else if (ListenAddresses.HasPath(address))
                {
                    result.AddError($"{metricsName} '{address}' has a path: the metrics listener answers at its root (/metrics), such as http://0.0.0.0:9464.");
                }
                else if (ListenAddresses.HostNameRefusal(address) is { } named)
                {
                    result.AddError($"{metricsName} '{address}' {named}");
                }
                else if (apiPorts.Contains(ListenAddresses.PortOf(address)))
                {
                    result.AddError($"{metricsName} '{address}' has the port of an {urlsName} address: the metrics listener needs a port of its own.");
                }
                else if (!servesHttps && IsHttps(address))
                {
                    result.AddError($"{metricsName} '{address}' is an https:// address, but no --https-cert is given to serve it with: give one, or use http://.");
                }
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new HeraldServerOptions
            {
                Urls = ListensOn(parse.GetValue(urls), parse.GetValue(cert)),
                MetricsUrls = parse.GetValue(metricsUrls) is { Length: > 0 } metrics ? metrics : null,
                DataDirectory = parse.GetValue(data)!,
                Development = parse.GetValue(dev),
                PostgresConnectionString = postgres.ValueIn(parse),
                Lease = TimeSpan.FromSeconds(parse.GetValue(lease)),
                RetentionDays = parse.GetValue(retention),
                AutoDisableDays = parse.GetValue(autoDisable),
                AdminKey = Environment.GetEnvironmentVariable("HERALD_ADMIN_KEY"),
                HttpsCertificatePath = parse.GetValue(cert),
                HttpsKeyPath = parse.GetValue(key),
                HttpsCertificatePassword = Environment.GetEnvironmentVariable("HERALD_HTTPS_CERT_PASSWORD"),
                KeysCertificatePath = parse.GetValue(keysCert),
                KeysCertificatePassword = Environment.GetEnvironmentVariable("HERALD_KEYS_CERT_PASSWORD"),
                RateLimitPerSecond = parse.GetValue(rateLimit),
                RateLimitBurst = 2 * parse.GetValue(rateLimit),
                Concurrency = parse.GetValue(concurrency),
                ShutdownGrace = TimeSpan.FromSeconds(parse.GetValue(grace)),
                JsonLogs = parse.GetValue(logFormat) == "json",
                PublicUrl = parse.GetValue(publicUrl) is { Length: > 0 } address ? address : null,
            };
            foreach (var proxy in parse.GetValue(proxies) ?? [])
            {
                options.TrustedProxies.Add(proxy);
            }
            foreach (var network in parse.GetValue(allow) ?? [])
            {
                options.AllowedNetworks.Add(network);
            }
            if (ListenAddresses.FirstUnbindable(options.Urls, "--urls") is { } unbindable)
            {
                await Console.Error.WriteLineAsync($"herald: cannot listen on {unbindable.Url}: {unbindable.Why}");
                return 1;
            }
            if (options.MetricsUrls is { } metricsAt && ListenAddresses.FirstUnbindable(metricsAt, "--metrics-urls") is { } metricsUnbindable)
            {
                await Console.Error.WriteLineAsync($"herald: cannot listen on {metricsUnbindable.Url}: {metricsUnbindable.Why}");
                return 1;
            }
            if (ListenAddresses.FirstRepeated(options.MetricsUrls is { } both ? $"{options.Urls};{both}" : options.Urls) is { } repeated)
            {
                await Console.Error.WriteLineAsync($"herald: cannot listen on {repeated}: an address named before it takes its port already; name each port once.");
                return 1;
            }
            // A folder this start makes and fails in is not left behind, holding only its lock.
            var folderNew = !Directory.Exists(options.DataDirectory) && !File.Exists(options.DataDirectory);
            var folderMade = string.IsNullOrEmpty(options.PostgresConnectionString) && folderNew;
            // In a folder that was there before, a key ring this start makes is its own to take away should it fail.
            var keysFolder = Path.Combine(options.DataDirectory, HeraldServer.KeysFolder);
            var keysMade = string.IsNullOrEmpty(options.PostgresConnectionString) && !folderNew && !Directory.Exists(keysFolder);
            // One node to a SQLite data folder: held until this process ends. A lock file this start
            // makes in a folder that was there before is its own to take away should it fail.
            var lockMade = string.IsNullOrEmpty(options.PostgresConnectionString) && !folderNew && !DataFolderLock.Exists(options.DataDirectory);
            var (folderLock, heldElsewhere) = string.IsNullOrEmpty(options.PostgresConnectionString) ? DataFolderLock.TryTake(options.DataDirectory) : (null, false);
            using var held = folderLock;
            if (heldElsewhere)
            {
                await Console.Error.WriteLineAsync($"herald: {Path.GetFullPath(options.DataDirectory)} is in use by another Herald node (it holds {DataFolderLock.FileName} there): one node serves a SQLite data folder; stop the other, give this one a --data of its own, or run several nodes on PostgreSQL (--postgres).");
                return 1;
            }
            WebApplication? app = null;
            IReadOnlyList<string> applied = [];
            // Until the host takes Ctrl+C and SIGTERM over (at its start), they stop the start here, which
            // then cleans up as a failed start does: left to the system, the process ended at once,
            // keeping an admin key it had made and never shown.
            var starting = new StopSignals(cancellationToken);
            try
            {
                app = HeraldServer.Build(options);
                if (app.Services.GetService<Herald.Storage.Postgres.PostgresStore>() is { } shared)
                {
                    shared.MigrationWaits = () => Console.Error.WriteLine(CommonOptions.MigrationWaits);
                }
                applied = await HeraldServer.MigrateAsync(app, starting.Token);
                starting.Token.ThrowIfCancellationRequested();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or System.Data.Common.DbException or System.Net.Sockets.SocketException
                || starting.Stopped)
            {
                // What this failed start made is taken away where it can be; what cannot be stays,
                // and the next start uses it.
                // An admin key this start made on SQLite, never shown, is not left behind: the next
                // start makes one and shows it. (On PostgreSQL one is written only once the database
                // has taken it, and other nodes may accept it already.)
                if (string.IsNullOrEmpty(options.PostgresConnectionString) && app?.Services.GetService<AdminKey>() is { Shown: not null, Path: { } madeKey })
                {
                    RemoveQuietly(() => File.Delete(madeKey));
                }
                if (app is not null)
                {
                    await app.DisposeAsync();
                }
                if (folderMade && held is not null)
                {
                    held.Dispose();
                    // Everything in it is this failed start's (its lock, and an admin key and key
                    // ring made before the failure, whether the key was shown or not).
                    RemoveQuietly(() => Directory.Delete(options.DataDirectory, recursive: true));
                }
                else if (!folderNew)
                {
                    // Made by this failed start (no secret was kept with them): the folder is left as it was.
                    if (keysMade && Directory.Exists(keysFolder))
                    {
                        RemoveQuietly(() => Directory.Delete(keysFolder, recursive: true));
                    }
                    if (lockMade && held is not null)
                    {
                        DataFolderLock.RemoveHeld(options.DataDirectory);
                    }
                }
                else if (folderNew && Directory.Exists(options.DataDirectory) && !Directory.EnumerateFileSystemEntries(options.DataDirectory).Any())
                {
                    // On PostgreSQL a folder this start made holds nothing until the database has
                    // taken its admin key: one left empty by a start that failed before is taken away.
                    RemoveQuietly(() => Directory.Delete(options.DataDirectory));
                }
                if (starting.Stopped)
                {
                    await Console.Error.WriteLineAsync("herald: stopped while starting");
                    return starting.ExitCode;
                }
                await Console.Error.WriteLineAsync($"herald: cannot start: {StartupError.Describe(e, options.PostgresConnectionString)}");
                return 1;
            }
            finally
            {
                starting.Dispose();
            }
            // With JSON logs, standard output is the log's alone (a collector reads every line of it
            // as JSON): what is said to the operator goes to standard error, and a key made here is
            // not printed at all (a collector would keep it), only where it is kept.
            var say = options.JsonLogs ? Console.Error : Console.Out;
            await using (app)
            {
                var admin = app.Services.GetRequiredService<AdminKey>();
                if (admin.Shown is not null && options.JsonLogs)
                {
                    say.WriteLine($"Admin key: made and kept in {admin.Path} (not printed with --log-format json: read it there)");
                }
                else if (admin.Shown is { } made)
                {
                    say.WriteLine($"Admin key (shown once, kept in {admin.Path}): {made}");
                }
                else if (admin.FromDatabase && admin.Path is { } ownFile)
                {
                    say.WriteLine($"Admin key: the one kept in the database, not the one in {ownFile} (the database keeps another: one made by a node that started first, or one HERALD_ADMIN_KEY replaced it with)");
                }
                else if (admin.SharedOwn && admin.Path is { } keptFile)
                {
                    say.WriteLine($"Admin key: the one in {keptFile}, which the database keeps for every node sharing it");
                }
                else if (admin.SharedOwn)
                {
                    say.WriteLine(admin.ReplacedShared
                        ? "Admin key: HERALD_ADMIN_KEY's, which the database now keeps for every node sharing it (the key kept there before no longer works)"
                        : "Admin key: HERALD_ADMIN_KEY's, which the database keeps for every node sharing it");
                }
                else if (admin.Removed is { } removed)
                {
                    say.WriteLine($"Admin key: HERALD_ADMIN_KEY's; the key {removed} kept before no longer works, and the file is removed");
                }
                else if (admin.FromDatabase)
                {
                    say.WriteLine("Admin key: the one kept in the database (made by the node that first used it, or given to a node as HERALD_ADMIN_KEY)");
                }
                // A database of an earlier release upgraded by this start is said to be, as migrate says it
                // (a new one, made from the first migration, is not: there was nothing to upgrade).
                if (applied.Count > 0 && !applied.Contains("0001_initial.sql"))
                {
                    var where = options.PostgresConnectionString is null ? Path.Combine(options.DataDirectory, "herald.db") : "PostgreSQL";
                    say.WriteLine($"{where}: applied {string.Join(", ", applied)}");
                }
                if (options.Development)
                {
                    say.WriteLine("Development mode: plain http and loopback endpoints are allowed.");
                }
                var storage = options.PostgresConnectionString is null
                    ? $"data in {Path.GetFullPath(options.DataDirectory)}"
                    : "data in PostgreSQL";
                try
                {
                    await app.StartAsync(cancellationToken);
                    // Only once the addresses are bound: a node that lost its port to another process never says it.
                    say.WriteLine($"Herald listening on {options.Urls} ({storage})");
                    if (options.MetricsUrls is { } metricsListener)
                    {
                        say.WriteLine($"Metrics on {metricsListener} (/metrics, /healthz and /readyz, to anyone reaching it)");
                    }
                    app.Lifetime.ApplicationStopping.Register(() =>
                    {
                        say.WriteLine(options.ShutdownGrace > TimeSpan.Zero
                            ? $"Herald stopping: attempts under way have {(int)options.ShutdownGrace.TotalSeconds} s to be answered and recorded"
                            : "Herald stopping");
                        ExitIfStillStoppingAfter(options.ShutdownGrace + StopOverrun);
                    });
                    await app.WaitForShutdownAsync(cancellationToken);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    // Taken between the check before the start and the server's bind (another process's, say).
                    await Console.Error.WriteLineAsync($"herald: cannot listen on {options.Urls}: {e.Message}");
                    return 1;
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// How long past the shutdown grace a stopping node waits for its last writes (attempts'
    /// outcomes, leases handed back), which take milliseconds when its database answers.
    /// </summary>
    internal static readonly TimeSpan StopOverrun = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Ends the process once <paramref name="limit"/> has passed, should it still be stopping then: a
    /// database that does not answer (a frozen server, a partition) would otherwise hold the stop's
    /// last writes for as long as its driver waits, past what a process manager allows before it
    /// kills the node. Nothing recorded is lost: what those writes held is taken up again (leases
    /// run out), and at most the attempts whose outcomes they carried are made again.
    /// </summary>
    private static void ExitIfStillStoppingAfter(TimeSpan limit) =>
        _ = Task.Delay(limit).ContinueWith(_ =>
        {
            // Said if it can be within a second: a standard error nobody reads (its pipe full) must
            // not keep the process from ending.
            Task.Run(() =>
            {
                Console.Error.WriteLine($"herald: stopped without its last writes: still stopping {(int)limit.TotalSeconds} s after the stop (its database not answering, say); "
                    + "attempts whose outcomes were not recorded are made again once their leases run out");
                Console.Error.Flush();
            }).Wait(TimeSpan.FromSeconds(1));
            Environment.Exit(1);
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    /// <summary>Removes a file or folder a failed start made; one that cannot be removed stays.</summary>
    private static void RemoveQuietly(Action remove)
    {
        try
        {
            remove();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The longest lease: a node that dies holds its work that long (and a resend's hold is renewed every third of it).</summary>
    private const int MaxLeaseSeconds = 86_400;

    /// <summary>The most API requests a second a merchant may be allowed (its burst is twice that).</summary>
    private const int MaxRateLimit = 1_000_000;

    /// <summary>Where the node listens: <paramref name="urls"/>, but with a certificate and no address of its own choosing, on HTTPS only.</summary>
    private static string ListensOn(string? urls, string? certificate) =>
        certificate is { Length: > 0 } && urls == HeraldServerOptions.DefaultUrls ? HeraldServerOptions.DefaultHttpsUrls : urls ?? HeraldServerOptions.DefaultUrls;

    private static bool IsHttps(string address) => address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
