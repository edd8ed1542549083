using Herald.Delivery.Recording;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Ids;
using Herald.Retry;
using Herald.Server.Hosting;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Herald.Bench;

/// <summary>
/// A Herald node composed in this process exactly as <c>herald serve --dev</c> composes it (API,
/// delivery workers, SQLite or PostgreSQL), with one merchant and one transaction-format endpoint
/// pointing at the receiver. Changes go in through the node's own <see cref="ChangeRecorder"/>.
/// </summary>
internal sealed class InProcessHerald : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private readonly string? _adminConnectionString;
    private readonly string? _database;

    private InProcessHerald(WebApplication app, string dataDirectory, string? adminConnectionString, string? database)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        _adminConnectionString = adminConnectionString;
        _database = database;
        Recorder = app.Services.GetRequiredService<ChangeRecorder>();
        Store = app.Services.GetRequiredService<IHeraldStore>();
    }

    public ChangeRecorder Recorder { get; }

    public IHeraldStore Store { get; }

    public string MerchantId { get; private set; } = "";

    public Endpoint Endpoint { get; private set; } = null!;

    /// <summary>Starts a node on SQLite in a temporary folder, or on a fresh PostgreSQL database when an admin connection string is given.</summary>
    public static async Task<InProcessHerald> StartAsync(string? postgresAdmin, string receiverUrl)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "herald-bench-" + Guid.NewGuid().ToString("N"));
        string? database = null;
        string? connectionString = null;
        if (postgresAdmin is not null)
        {
            database = $"herald_bench_{Guid.NewGuid():N}";
            await ExecuteAsync(postgresAdmin, $"CREATE DATABASE {database}");
            connectionString = new NpgsqlConnectionStringBuilder(postgresAdmin) { Database = database }.ConnectionString;
        }
        var options = new HeraldServerOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = dataDirectory,
            PostgresConnectionString = connectionString,
            AdminKey = "hk_admin_bench_0123456789",
            Development = true,
            Workers = true,
            RateLimitPerSecond = 0,
        };
        // Console logging of every warning would cost the node time the benchmark means to measure.
        var app = HeraldServer.Build(options, b => b.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting", LogLevel.Warning));
        await HeraldServer.MigrateAsync(app);
        await app.StartAsync();
        var herald = new InProcessHerald(app, dataDirectory, postgresAdmin, database);
        await herald.CreateEndpointAsync(receiverUrl);
        return herald;
    }

    private async Task CreateEndpointAsync(string receiverUrl)
    {
        var time = TimeProvider.System;
        var now = time.GetUtcNow();
        var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, time), "Bench", now);
        await Store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant.Id, Guid.NewGuid().ToString("N"), now));
        Endpoint = new Endpoint
        {
            Id = HeraldId.New(HeraldId.Endpoint, time),
            MerchantId = merchant.Id,
            Url = receiverUrl,
            Format = PayloadFormat.Transaction,
            Success = SuccessRule.Any2xx,
            Retry = RetryPolicy.Exponential,
            TimeoutSeconds = 15,
            Source = EndpointSources.Api,
            CreatedAt = now,
            UpdatedAt = now,
            Secrets = [WebhookSignature.NewSecret()],
        };
        await Store.CreateEndpointAsync(Endpoint);
        MerchantId = merchant.Id;
    }

    /// <summary>Records one new transaction (its INIT change) through the recorder; returns the event id, which is the webhook-id.</summary>
    public async Task<string> RecordAsync()
    {
        // A transaction's id as the API makes it.
        var id = HeraldId.NewUuid(TimeProvider.System);
        var recorded = await Recorder.CreateAsync(MerchantId, EntityKind.Transaction, id, BenchPayload.Transaction(id), null, CancellationToken.None);
        return recorded.Event.Id;
    }

    /// <summary>Pauses or resumes the endpoint the way the API's pause and resume do.</summary>
    public async Task SetPausedAsync(bool paused)
    {
        var now = TimeProvider.System.GetUtcNow();
        var current = await Store.GetEndpointAsync(MerchantId, Endpoint.Id) ?? throw new InvalidOperationException("the bench endpoint is gone");
        var updated = current with
        {
            Enabled = !paused,
            DisabledReason = paused ? "paused by the merchant" : null,
            DisabledAt = paused ? now : null,
            UpdatedAt = now,
        };
        if (!await Store.UpdateEndpointAsync(updated))
        {
            throw new InvalidOperationException("the bench endpoint could not be updated");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_adminConnectionString is not null && _database is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(_adminConnectionString, $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
