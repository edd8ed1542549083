using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// A real Herald node on Kestrel (127.0.0.1, random port) over SQLite in a temp folder, with a
/// fake clock the test moves.
/// </summary>
public sealed class HeraldHost : IAsyncDisposable
{
    public const string AdminKey = "hk_admin_test_key_0123456789";

    private readonly WebApplication _app;
    private readonly bool _ownsData;

    private HeraldHost(WebApplication app, string dataDirectory, FakeTimeProvider clock, string baseUrl, bool ownsData)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Clock = clock;
        _ownsData = ownsData;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    }

    public string DataDirectory { get; }

    /// <summary>The first column of what <paramref name="sql"/> reads from the node's SQLite database, as it is stored.</summary>
    public async Task<List<string>> ReadDatabaseAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "herald.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }

    public FakeTimeProvider Clock { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static readonly DateTimeOffset Start = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);

    public static async Task<HeraldHost> StartAsync(bool development = true, string? dataDirectory = null, FakeTimeProvider? clock = null, string? postgres = null, bool workers = true, Action<WebApplicationBuilder>? configure = null, (int PerSecond, int Burst)? rateLimit = null, Action<HeraldServerOptions>? tune = null)
    {
        var ownsData = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        clock ??= new FakeTimeProvider(Start);
        var options = new HeraldServerOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = dataDirectory,
            AdminKey = AdminKey,
            Development = development,
            TimeProvider = clock,
            PostgresConnectionString = postgres,
            Workers = workers,
        };
        tune?.Invoke(options);
        if (rateLimit is { } limit)
        {
            options.RateLimitPerSecond = limit.PerSecond;
            options.RateLimitBurst = limit.Burst;
        }
        var app = HeraldServer.Build(options, b =>
        {
            b.Logging.SetMinimumLevel(LogLevel.Warning);
            configure?.Invoke(b);
        });
        await HeraldServer.MigrateAsync(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HeraldHost(app, dataDirectory, clock, address, ownsData);
    }

    public HttpClient As(string key)
    {
        var client = new HttpClient { BaseAddress = Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Creates a merchant and returns a client holding its key.</summary>
    public async Task<HttpClient> NewMerchantAsync(string name = "Acme")
    {
        using var admin = As(AdminKey);
        var response = await admin.PostAsJsonAsync("/v1/merchants", new { name });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return As(body!["api_key"]!.GetValue<string>());
    }

    /// <summary>
    /// Moves the clock by <paramref name="by"/>, then keeps nudging it a second at a time until
    /// <paramref name="until"/> holds: the workers wait on the fake clock and may not have armed
    /// their timer at the moment of the first move.
    /// </summary>
    public async Task AdvanceUntilAsync(TimeSpan by, Func<Task<bool>> until, TimeSpan? timeout = null, TimeSpan? step = null)
    {
        Clock.Advance(by);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await until())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the expected state was not reached");
            }
            // Slowly enough that a claim's 90 s lease cannot run out under a busy machine.
            await Task.Delay(100);
            Clock.Advance(step ?? TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Polls (real time) until the condition holds.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the expected state was not reached");
            }
            await Task.Delay(25);
        }
    }

    public async Task StopAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        catch (ObjectDisposedException)
        {
        }
        if (_ownsData)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

public static class HttpJson
{
    public static async Task<JsonObject> PostJsonAsync(this HttpClient client, string path, object body, int expectedStatus = 201)
    {
        var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"POST {path}: expected {expectedStatus}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> GetJsonAsync(this HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static string Str(this JsonNode? node, string key) => node![key]!.GetValue<string>();

}
