using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Ids;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Postgres;
using Herald.Storage.Tests.Compliance;
using Npgsql;

namespace Herald.Storage.Tests.Postgres;

/// <summary>
/// Two nodes on one database: a node listening for endpoint writes keeps endpoints in memory, and
/// another node's write (an address changed, a secret rotated, the endpoint disabled) reaches it
/// within moments; a node not listening reads them afresh every time.
/// </summary>
public sealed class PostgresEndpointCacheTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private PostgresDatabase _db = null!;
    private PostgresStore _a = null!;
    private PostgresStore _b = null!;

    public async Task InitializeAsync()
    {
        _db = await PostgresDatabase.CreateAsync();
        _a = new PostgresStore(_db.ConnectionString);
        await _a.MigrateAsync();
        _b = new PostgresStore(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task ListeningNode_KeepsEndpoints_AndSeesAnotherNodesWritesWithinMoments()
    {
        var (merchant, endpoint) = await EndpointAsync();
        var leased = await LeasedNotificationAsync(merchant, endpoint);
        using var stop = new CancellationTokenSource();
        var listening = new PostgresWakeListener(_b, () => { }).RunAsync(stop.Token);
        try
        {
            await UntilKeptInMemoryAsync(merchant, endpoint);

            // An address changed on the other node.
            Assert.True(await _a.UpdateEndpointAsync(endpoint with { Url = "https://moved.example/hooks", UpdatedAt = T0 }));
            await EventuallyAsync(async () => (await _b.ListEndpointsForFormatAsync(merchant, PayloadFormat.Thin)).Single().Url == "https://moved.example/hooks");
            await EventuallyAsync(async () => (await _b.LoadLeasedAsync([leased], T0)).Single().Url == "https://moved.example/hooks");

            // A secret rotated there: both sign until the old one's grace ends.
            var fresh = WebhookSignature.NewSecret();
            var rotatedAt = T0 + TimeSpan.FromSeconds(1);
            Assert.Equal(SecretRotationOutcome.Rotated, (await _a.RotateSecretAsync(merchant, endpoint.Id, fresh, rotatedAt, rotatedAt + TimeSpan.FromHours(1), 5)).Outcome);
            await EventuallyAsync(async () => (await _b.LoadLeasedAsync([leased], rotatedAt)).Single().Secrets.SequenceEqual([fresh, endpoint.Secrets[0]]));

            // Disabled there: what was written leased to this node is no longer handed to its workers.
            Assert.True(await _a.DisableEndpointAsync(endpoint.Id, "answered 410 Gone", T0));
            await EventuallyAsync(async () => (await _b.LoadLeasedAsync([leased], T0)).Count == 0);
        }
        finally
        {
            await stop.CancelAsync();
            await listening;
        }

        // No longer listening: nothing is kept, a write no node announced is seen at once.
        await WriteBehindEveryNodesBackAsync($"UPDATE endpoints SET url = 'https://direct.example/hooks', enabled = TRUE WHERE id = '{endpoint.Id}'");
        Assert.Equal("https://direct.example/hooks", (await _b.ListEndpointsForFormatAsync(merchant, PayloadFormat.Thin)).Single().Url);
        Assert.Equal("https://direct.example/hooks", (await _b.LoadLeasedAsync([leased], T0)).Single().Url);
    }

    /// <summary>
    /// Waits until the listening node answers from memory: a write made behind every node's back
    /// (straight into the table, announced to none) is then not seen by it.
    /// </summary>
    private async Task UntilKeptInMemoryAsync(string merchant, Endpoint endpoint)
    {
        var deadline = DateTime.UtcNow + Settle;
        for (var i = 0; DateTime.UtcNow < deadline; i++)
        {
            var before = (await _b.ListEndpointsForFormatAsync(merchant, PayloadFormat.Thin)).Single().Url;
            var behindTheBack = $"https://unannounced.example/{i}";
            await WriteBehindEveryNodesBackAsync($"UPDATE endpoints SET url = '{behindTheBack}' WHERE id = '{endpoint.Id}'");
            if ((await _b.ListEndpointsForFormatAsync(merchant, PayloadFormat.Thin)).Single().Url == before)
            {
                return;
            }
            await Task.Delay(50);
        }
        Assert.Fail("the listening node never kept its endpoints in memory");
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the other node's write was not seen in time");
            await Task.Delay(20);
        }
    }

    private async Task<(string Merchant, Endpoint Endpoint)> EndpointAsync()
    {
        var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, TimeProvider.System), "Acme", T0);
        await _a.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, TimeProvider.System), merchant.Id, Guid.NewGuid().ToString("N"), T0));
        var endpoint = TestEndpoints.New(merchant.Id, T0, TimeProvider.System);
        await _a.CreateEndpointAsync(endpoint);
        return (merchant.Id, endpoint);
    }

    /// <summary>A change written on the first node with its notification leased to the second, as the short way writes it.</summary>
    private async Task<LeasedNotification> LeasedNotificationAsync(string merchant, Endpoint endpoint)
    {
        var doc = new JsonObject { ["id"] = "po1", ["status"] = "OPENED" };
        var entity = new Entity(EntityKind.PaymentOrder, "po1", merchant, "OPENED", 1, null, doc, T0, T0);
        var evt = new EntityEvent(HeraldId.New(HeraldId.Event, TimeProvider.System), merchant, EntityKind.PaymentOrder, "po1",
            EventTypes.For(EntityKind.PaymentOrder, "OPENED"), null, "OPENED", 1, T0, doc);
        var notification = new NewNotification(HeraldId.New(HeraldId.Notification, TimeProvider.System), endpoint.Id, "{}", Immediate: true);
        var lease = new NotificationLease("token-b", T0 + TimeSpan.FromMinutes(5));
        var (changes, _) = await _a.WriteBatchAsync([new EntityChange(entity, 0, evt, [notification], null)], [], lease);
        Assert.Equal([CommitResult.Committed], changes);
        return new LeasedNotification(notification.Id, merchant, evt.Id, endpoint.Id, notification.Payload, T0, null, lease.Token, lease.Until);
    }

    /// <summary>A statement straight on the database, announced to no node.</summary>
    private async Task WriteBehindEveryNodesBackAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
