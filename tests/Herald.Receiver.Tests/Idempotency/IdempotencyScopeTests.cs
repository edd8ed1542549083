using System.Net;
using Herald.Receiver.Idempotency;
using Herald.Receiver.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace Herald.Receiver.Tests.Idempotency;

/// <summary>
/// Receivers sharing one idempotency store. Herald sends an event under one webhook-id to every
/// endpoint that receives it: each receiver must still run its handler once.
/// </summary>
public sealed class IdempotencyScopeTests : IAsyncLifetime
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "herald-ids-" + Guid.NewGuid().ToString("N") + ".db");
    private PostgresDatabase? _postgres;
    private Npgsql.NpgsqlDataSource? _source;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        File.Delete(_file);
    }

    private async Task<Func<IIdempotencyStore>> StoresAsync(string kind)
    {
        switch (kind)
        {
            case "memory":
                var one = new InMemoryIdempotencyStore();
                return () => one;
            case "sqlite":
                return () => new SqliteIdempotencyStore($"Data Source={_file}");
            default:
                _postgres = await PostgresDatabase.CreateAsync();
                _source = Npgsql.NpgsqlDataSource.Create(_postgres.ConnectionString);
                return () => new PostgresIdempotencyStore(_source);
        }
    }

    private static HeraldWebhookOptions Options(IIdempotencyStore store, string? scope)
    {
        var options = new HeraldWebhookOptions { IdempotencyStore = store, IdempotencyScope = scope };
        options.Secrets.Add(Signed.Secret);
        return options;
    }

    private static async Task<HttpStatusCode> DeliverAsync(ReceiverApp app, string path, string webhookId)
    {
        using var request = Signed.Request(webhookId, Signed.Transaction, DateTimeOffset.UtcNow, path);
        return (await app.Client.SendAsync(request)).StatusCode;
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TwoRoutesSharingAStore_WithTheirOwnScopes_EachHandleTheSameWebhookIdOnce(string kind)
    {
        var stores = await StoresAsync(kind);
        var store = stores();
        int orders = 0, refunds = 0;
        await using var app = await ReceiverApp.StartAsync(a =>
        {
            a.MapHeraldWebhooks("/orders", Options(store, "orders"), (_, _) => { Interlocked.Increment(ref orders); return Task.CompletedTask; });
            a.MapHeraldWebhooks("/refunds", Options(store, "refunds"), (_, _) => { Interlocked.Increment(ref refunds); return Task.CompletedTask; });
        });

        // One event, sent to both endpoints under the same webhook-id, then each retried.
        foreach (var path in new[] { "/orders", "/refunds", "/orders", "/refunds" })
        {
            Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, path, "evt_both"));
        }
        Assert.Equal(1, orders);
        Assert.Equal(1, refunds);
    }

    [Fact]
    public async Task TwoAppsOnOneSqliteFile_WithTheirOwnScopes_EachHandleTheSameWebhookIdOnce()
    {
        var stores = await StoresAsync("sqlite");
        int shop = 0, ledger = 0;
        await using var shopApp = await ReceiverApp.StartAsync(Options(stores(), "shop"), (_, _) => { Interlocked.Increment(ref shop); return Task.CompletedTask; });
        await using var ledgerApp = await ReceiverApp.StartAsync(Options(stores(), "ledger"), (_, _) => { Interlocked.Increment(ref ledger); return Task.CompletedTask; });

        foreach (var app in new[] { shopApp, ledgerApp, shopApp, ledgerApp })
        {
            Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, "/webhooks", "evt_both"));
        }
        Assert.Equal(1, shop);
        Assert.Equal(1, ledger);
    }

    [Fact]
    public async Task WithoutAScope_TheWebhookIdIsStoredAsItIs_SoAnIdHandledBeforeAnUpgradeIsStillRecognised()
    {
        // A row as the kit wrote it before scopes: the bare webhook-id, handled.
        var stores = await StoresAsync("sqlite");
        Assert.Equal(ClaimResult.Claimed, await stores().TryClaimAsync("evt_before", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), default));
        await stores().CompleteAsync("evt_before", DateTimeOffset.UtcNow, default);
        var runs = 0;
        await using var app = await ReceiverApp.StartAsync(Options(stores(), null), (_, _) => { Interlocked.Increment(ref runs); return Task.CompletedTask; });

        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, "/webhooks", "evt_before"));
        Assert.Equal(0, runs);
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, "/webhooks", "evt_after"));
        Assert.Equal(1, runs);
        Assert.Equal(["evt_after", "evt_before"], await StoredIdsAsync());
    }

    [Fact]
    public async Task AScopedReceiver_StoresScopeAndWebhookId_BesideAnUnscopedOne()
    {
        var stores = await StoresAsync("sqlite");
        var store = stores();
        await using var app = await ReceiverApp.StartAsync(a =>
        {
            a.MapHeraldWebhooks("/webhooks", Options(store, null), (_, _) => Task.CompletedTask);
            a.MapHeraldWebhooks("/refunds", Options(store, "refunds"), (_, _) => Task.CompletedTask);
        });
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, "/webhooks", "evt_1"));
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(app, "/refunds", "evt_1"));
        Assert.Equal(["evt_1", "refunds:evt_1"], await StoredIdsAsync());
    }

    private async Task<List<string>> StoredIdsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_file}");
        await connection.OpenAsync();
        await using var command = new SqliteCommand("SELECT id FROM herald_webhook_ids WHERE done = 1 ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("orders")]
    public async Task TwoRoutesOfOneApp_SharingAStoreUnderOneScope_FailAtStartup(string? scope)
    {
        var store = new InMemoryIdempotencyStore();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ReceiverApp.StartAsync(a =>
        {
            a.MapHeraldWebhooks("/orders", Options(store, scope), (_, _) => Task.CompletedTask);
            var group = a.MapGroup("/v2");
            group.MapHeraldWebhooks("/refunds", Options(store, scope), (_, _) => Task.CompletedTask);
        }));
        Assert.Contains("MapHeraldWebhooks(\"/refunds\") uses the same IdempotencyStore as MapHeraldWebhooks(\"/orders\")", e.Message, StringComparison.Ordinal);
        Assert.Contains("IdempotencyScope", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoutesWithTheirOwnStores_OrTheDefaultStore_NeedNoScope()
    {
        var shared = Options(new InMemoryIdempotencyStore(), null);
        await using var app = await ReceiverApp.StartAsync(a =>
        {
            a.MapHeraldWebhooks("/a", Options(new InMemoryIdempotencyStore(), null), (_, _) => Task.CompletedTask);
            a.MapHeraldWebhooks("/b", Options(new InMemoryIdempotencyStore(), null), (_, _) => Task.CompletedTask);
            var fresh = new HeraldWebhookOptions();
            a.MapHeraldWebhooks("/c", fresh, (_, _) => Task.CompletedTask);
            a.MapHeraldWebhooks("/d", fresh, (_, _) => Task.CompletedTask);
        });
        // Another app may use the store one app uses: the check is per app.
        await using var other = await ReceiverApp.StartAsync(a => a.MapHeraldWebhooks("/a", shared, (_, _) => Task.CompletedTask));
        await using var third = await ReceiverApp.StartAsync(a => a.MapHeraldWebhooks("/a", shared, (_, _) => Task.CompletedTask));
    }

    [Fact]
    public async Task ABlankScope_FailsAtStartup() =>
        await Assert.ThrowsAsync<ArgumentException>(() => ReceiverApp.StartAsync(a =>
            a.MapHeraldWebhooks("/webhooks", Options(new InMemoryIdempotencyStore(), " "), (_, _) => Task.CompletedTask)));
}
