using System.Security.Cryptography.X509Certificates;
using Herald.Delivery;
using Herald.Server.Api;
using Herald.Server.Auth;
using Herald.Server.Errors;
using Herald.Server.OpenApi;
using Herald.Server.Portal;
using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Herald.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Herald.Server.Hosting;

/// <summary>Builds a Herald node: storage, the delivery engine, the HTTP API and the merchant portal in one process.</summary>
public static class HeraldServer
{
    /// <summary>Where the OpenAPI document is served.</summary>
    private const string OpenApiPath = "/openapi/v1.json";

    /// <summary>Where in a SQLite data folder the key ring is kept.</summary>
    public const string KeysFolder = "keys";

    public static WebApplication Build(HeraldServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        var metricsPorts = MetricsAccess.PortsOf(options.MetricsUrls);
        if (options.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(url => ListenAddresses.PortOf(url) is { } port && metricsPorts.Contains(port)) is { } shared)
        {
            throw new InvalidOperationException($"the metrics listener's port is also the API's ({shared}): give the metrics a port of their own");
        }
        builder.WebHost.UseUrls(metricsPorts.Count > 0 ? $"{options.Urls};{options.MetricsUrls}" : options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = HeraldServerOptions.MaxRequestBodyBytes;
        });
        Transport.Configure(builder, options);
        // Herald's levels for these categories, as configuration of the lowest precedence: the
        // operator's own (Logging__LogLevel__…) overrides them, as it would any .NET default.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Microsoft.AspNetCore"] = nameof(LogLevel.Warning),
                // Without a keys certificate the key ring is kept unencrypted with Herald's data; say so in the docs, not at every start.
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = nameof(LogLevel.Error),
                ["Logging:LogLevel:Microsoft.Hosting"] = nameof(LogLevel.Information),
            },
        });
        if (options.JsonLogs)
        {
            // One JSON object a line, the message's values as fields of their own and an exception in
            // one field, for a log collector to read without parsing text.
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                json.IncludeScopes = true;
            });
        }

        var services = builder.Services;
        services.AddSingleton(options.TimeProvider ?? TimeProvider.System);
        services.AddSingleton(new PublicAddress(options.PublicUrl));
        // Keys are written encrypted to the keys certificate, and read back with it (not from a
        // certificate store, which Linux lacks for this). Read before an admin key is made, so that
        // a certificate that cannot serve stops the start without leaving a key nobody was shown.
        X509Certificate2? keysCertificate = null;
        if (options.KeysCertificatePath is { Length: > 0 } keysCertificatePath)
        {
            keysCertificate = Transport.Load(keysCertificatePath, null, options.KeysCertificatePassword, "keys certificate");
            using var rsa = keysCertificate.GetRSAPrivateKey();
            // Keys are encrypted to the certificate with RSA: any other key would fail only when the first key is written.
            _ = rsa ?? throw new InvalidOperationException($"the keys certificate {keysCertificatePath} must have an RSA private key");
        }
        var givenCertificate = keysCertificate is null ? null : new KeysCertificate(keysCertificate, options.KeysCertificatePath!);
        if (options.PostgresConnectionString is not { Length: > 0 })
        {
            // The data folder's key ring now; the database's once the node has migrated it.
            var keysFolder = Path.Combine(options.DataDirectory, KeysFolder);
            RefuseKeyRingItCannotRead(Directory.Exists(keysFolder) ? Directory.EnumerateFiles(keysFolder, "key-*.xml").Select(KeyFile) : [],
                givenCertificate, $"the key ring in {keysFolder}");
        }
        else if (givenCertificate is not null)
        {
            services.AddSingleton(givenCertificate);
        }
        services.AddSingleton(AdminKey.Resolve(options.AdminKey, options.DataDirectory, shared: options.PostgresConnectionString is { Length: > 0 }));
        // Endpoint secrets are encrypted at rest; the key ring lives with Herald's data.
        var dataProtection = services.AddDataProtection().SetApplicationName("Herald");
        if (keysCertificate is not null)
        {
            dataProtection.ProtectKeysWithCertificate(keysCertificate).UnprotectKeysWithAnyCertificate(keysCertificate);
            services.AddHostedService<EncryptedDefaultKey>();
        }
        services.AddSingleton<ISecretProtector, DataProtectionSecrets>();
        services.AddSingleton<ReadinessProbe>();
        services.AddSingleton<Api.StatsReads>();
        services.AddSingleton<Api.StatsKeepingLog>();
        if (options.PostgresConnectionString is { Length: > 0 } postgres)
        {
            // One data source per node, for the store and the key ring alike.
            var dataSource = PostgresStore.CreateDataSource(postgres);
            services.Configure<KeyManagementOptions>(o => o.XmlRepository = new PostgresXmlRepository(new PostgresKeyRing(dataSource)));
            services.AddSingleton(sp => new PostgresStore(dataSource, postgres)
            {
                Secrets = sp.GetRequiredService<ISecretProtector>(),
                KeepingFailed = sp.GetRequiredService<Api.StatsKeepingLog>().Failed,
            });
            services.AddSingleton<IHeraldStore>(sp => sp.GetRequiredService<PostgresStore>());
            // Every node listens: for work (woken workers), and for endpoint writes (kept endpoints dropped).
            services.AddHostedService<PostgresWakeService>();
            // Every node accepts the admin key the database keeps, following a replaced one.
            services.AddHostedService<AdminKeyFollower>();
        }
        else
        {
            // The key ring's folder, as the data folder, is its owner's alone when Herald makes it.
            var keysFolder = Path.Combine(options.DataDirectory, KeysFolder);
            SqliteStoreOptions.CreateDataDirectory(options.DataDirectory);
            SqliteStoreOptions.CreateDataDirectory(keysFolder);
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(keysFolder));
            var sqliteOptions = new SqliteStoreOptions { DataDirectory = options.DataDirectory };
            services.AddSingleton(sqliteOptions);
            services.AddSingleton(sp => new SqliteStore(sqliteOptions)
            {
                Secrets = sp.GetRequiredService<ISecretProtector>(),
                KeepingFailed = sp.GetRequiredService<Api.StatsKeepingLog>().Failed,
            });
            services.AddSingleton<IHeraldStore>(sp => sp.GetRequiredService<SqliteStore>());
        }
        services.AddHeraldDelivery(d =>
        {
            d.Development = options.Development;
            d.WorkersEnabled = options.Workers;
            d.RetentionDays = options.RetentionDays;
            d.AutoDisableAfter = TimeSpan.FromDays(options.AutoDisableDays);
            d.ResendQueueCapacity = options.ResendQueueCapacity;
            d.ResendsPerMerchant = options.ResendsPerMerchant;
            d.EndpointsPerMerchant = options.EndpointsPerMerchant;
            d.MaxConcurrency = options.Concurrency;
            d.ShutdownGrace = options.ShutdownGrace;
            foreach (var network in options.AllowedNetworks)
            {
                d.AllowedNetworks.Add(network);
            }
            if (options.Lease is { } lease)
            {
                d.Lease = lease;
            }
            if (options.PollInterval is { } poll)
            {
                d.PollInterval = poll;
            }
        });
        // The delivery workers and the resends drain side by side, each within the grace (one after
        // the other they would take twice it, the resends starting new sends while the workers
        // drained), and the host gives them that long, with time to record and hand back after it.
        // The host's own lines at start and stop ("Hosting environment: Production", its content
        // root in the build folder) say nothing an operator of Herald needs, --dev or not: the node
        // says where it listens, and that it stops, itself.
        services.Configure<Microsoft.Extensions.Hosting.ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        services.Configure<HostOptions>(o =>
        {
            o.ServicesStopConcurrently = true;
            o.ShutdownTimeout = TimeSpan.FromTicks(Math.Max(o.ShutdownTimeout.Ticks, (options.ShutdownGrace + TimeSpan.FromSeconds(15)).Ticks));
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddHeraldRateLimiting(options);
        services.AddHeraldPortal();
        var telemetry = services.AddOpenTelemetry()
            // Spans say they are Herald's (service.name), unless OTEL_SERVICE_NAME names the node otherwise.
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
                {
                    resource.AddService("herald", serviceVersion: typeof(HeraldServer).Assembly.GetName().Version?.ToString());
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(Delivery.Workers.DeliveryMetrics.MeterName)
                // A scrape reads the values as they are: the exporter's default keeps an answer for
                // 300 ms, so a second look right after a change would show the old figures.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Traces leave the node only when an OTLP collector is named, the OpenTelemetry way; without
        // one nothing listens to Herald's spans, so none is made (each costs its allocations on
        // every change and attempt).
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.WithTracing(tracing => tracing.AddSource(Delivery.Workers.DeliveryTelemetry.SourceName).AddOtlpExporter());
            services.AddHostedService<TraceExportLog>();
        }
        services.AddHeraldOpenApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        Transport.Use(app, options);
        app.Use(HeadRequests.InvokeAsync);
        app.Use(ApiHeaders.InvokeAsync);
        app.Use(Portal.PortalServiceCollectionExtensions.GuardAsync);
        // Routing after it (not first, where the host would put it): a HEAD is routed as its GET.
        app.UseRouting();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        if (options.PostgresConnectionString is not null)
        {
            app.UseMiddleware<DatabaseWatch>();
        }
        app.UseMiddleware<MetricsAccess>(metricsPorts);
        app.UseRateLimiter();
        app.UseMiddleware<Caller.Middleware>();
        app.Use(Api.StrictQuery.InvokeAsync);
        app.Use(Portal.PortalForms.InvokeAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        // The one document by its name alone: another name is an unknown route, answered as any is
        // (the document's handler would read a name from the query: it is given none).
        app.Use((context, next) =>
        {
            if (context.Request.Path.Equals(OpenApiPath, StringComparison.OrdinalIgnoreCase))
            {
                context.Request.QueryString = QueryString.Empty;
            }
            return next(context);
        });
        app.MapOpenApi(OpenApiPath);
        app.MapApiReference();
        // Read only: another method answers 405, as on every other route.
        app.MapPrometheusScrapingEndpoint(MetricsAccess.MetricsPath).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]), MetricsAccess.ServedOnMetricsListener.Metrics);
        app.MapOperations();
        app.MapMerchants();
        app.MapOperator();
        app.MapApiKeys();
        app.MapEndpoints();
        app.MapPreferences();
        app.MapEntities();
        app.MapEvents();
        app.MapStats();
        app.MapNotifications();
        app.MapHeraldPortal();
        return app;
    }

    /// <summary>
    /// A key ring this node could not read, refused rather than started unable to read the
    /// endpoints' secrets under its keys and making a key of its own beside them: one with keys
    /// encrypted to a keys certificate, at a start without one (the new key would be kept
    /// unencrypted), or to another certificate than <paramref name="given"/> (one the nodes holding
    /// that certificate could not read). A key kept unencrypted (made before a certificate was
    /// given) is no matter: any node reads it.
    /// </summary>
    private static void RefuseKeyRingItCannotRead(IEnumerable<System.Xml.Linq.XElement> keys, KeysCertificate? given, string ring)
    {
        var ours = given is null ? null : Convert.ToBase64String(given.Certificate.RawData);
        foreach (var key in keys)
        {
            if (given is null)
            {
                if (key.Descendants().Any(e => e.Name.LocalName == "encryptedSecret"))
                {
                    throw new InvalidOperationException($"{ring} is encrypted to a keys certificate: start with that certificate (--keys-cert, or HERALD_KEYS_CERT); without it no endpoint's secret can be read, and a key made now would be kept unencrypted");
                }
                continue;
            }
            // An encrypted key names the certificate it was encrypted to (XML Encryption's X509Data).
            var to = key.Descendants().Where(e => e.Name.LocalName == "X509Certificate").Select(e => string.Concat(e.Value.Where(c => !char.IsWhiteSpace(c)))).ToList();
            if (to.Count > 0 && !to.Contains(ours, StringComparer.Ordinal))
            {
                string other;
                try
                {
                    using var theirs = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(to[0]));
                    other = $"{theirs.Subject}, thumbprint {theirs.Thumbprint}";
                }
                catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
                {
                    other = "one that cannot be read";
                }
                throw new InvalidOperationException($"{ring} is encrypted to another keys certificate ({other}) than {given.Path} ({given.Certificate.Subject}, thumbprint {given.Certificate.Thumbprint}): "
                    + "start with the certificate it was encrypted to; with this one no endpoint's secret under its keys can be read, and a key made now would be one the nodes holding that certificate cannot read");
            }
        }
    }

    /// <summary>A key of the data folder's ring, read; one that is not XML is said in one line, naming the file.</summary>
    private static System.Xml.Linq.XElement KeyFile(string path)
    {
        try
        {
            return System.Xml.Linq.XElement.Load(path);
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidOperationException($"the key ring's file {path} is damaged ({e.Message}): restore the keys folder from a backup", e);
        }
    }

    /// <summary>The keys certificate a node was given, and where it was read from.</summary>
    private sealed record KeysCertificate(X509Certificate2 Certificate, string Path);

    /// <summary>
    /// Brings the schema up to date and answers the migrations applied; on PostgreSQL, then settles
    /// the admin key with the other nodes (<see cref="AdminKey.ShareAsync"/>).
    /// </summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var applied = await app.Services.GetRequiredService<IHeraldStore>().MigrateAsync(cancellationToken);
        if (app.Services.GetService<PostgresStore>() is { } postgres)
        {
            // The database's key ring, as the data folder's is at build: one this node could not read
            // is refused before the node starts (and makes a key of its own there).
            if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KeyManagementOptions>>().Value.XmlRepository is { } ring)
            {
                RefuseKeyRingItCannotRead(ring.GetAllElements(), app.Services.GetService<KeysCertificate>(), "the key ring in the database (data_protection_keys)");
            }
            var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            // What was kept before, for the node to say whether its key replaced another.
            var keptBefore = await postgres.ReadAdminKeyHashAsync(cancellationToken);
            await app.Services.GetRequiredService<AdminKey>().ShareAsync((hash, replace) => postgres.KeepAdminKeyHashAsync(hash, replace, now, cancellationToken), keptBefore);
        }
        return applied;
    }
}
