using System.Reflection;
using System.Text.Json.Nodes;
using Herald.Delivery.Workers;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Ids;
using Herald.Retry;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Tests.Delivery;

/// <summary>
/// The group commit's hand-off on SQLite, whose transactions take in what arrives while their
/// statements run: each round's notifications are written leased to this node's workers only
/// while the hand-off has room for them beside the rounds before; the rest are left to be claimed.
/// </summary>
public sealed class StoreWriterTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(90);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "herald-writer-" + Guid.NewGuid().ToString("N"));
    private SqliteStore _store = null!;
    private string _merchant = "";
    private string _endpoint = "";

    public async Task InitializeAsync()
    {
        _store = new SqliteStore(new SqliteStoreOptions { DataDirectory = _data });
        await _store.MigrateAsync();
        var now = TimeProvider.System.GetUtcNow();
        var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, TimeProvider.System), "Acme", now);
        await _store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, TimeProvider.System), merchant.Id, Guid.NewGuid().ToString("N"), now));
        var endpoint = new Endpoint
        {
            Id = HeraldId.New(HeraldId.Endpoint, TimeProvider.System),
            MerchantId = merchant.Id,
            Url = "http://127.0.0.1:9/hooks",
            Format = PayloadFormat.Thin,
            Success = SuccessRule.Any2xx,
            Retry = RetryPolicy.Exponential,
            TimeoutSeconds = 10,
            Source = EndpointSources.Api,
            CreatedAt = now,
            UpdatedAt = now,
            Secrets = [WebhookSignature.NewSecret()],
        };
        await _store.CreateEndpointAsync(endpoint);
        (_merchant, _endpoint) = (merchant.Id, endpoint.Id);
    }

    public Task DisposeAsync()
    {
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
        return Task.CompletedTask;
    }

    private EntityChange NewChange(bool parked = false)
    {
        var at = TimeProvider.System.GetUtcNow();
        var id = "po_" + Guid.NewGuid().ToString("N");
        var doc = new JsonObject { ["id"] = id, ["status"] = "OPENED" };
        var entity = new Entity(EntityKind.PaymentOrder, id, _merchant, "OPENED", 1, null, doc, at, at);
        var evt = new EntityEvent(HeraldId.New(HeraldId.Event, TimeProvider.System), _merchant, EntityKind.PaymentOrder, id,
            EventTypes.For(EntityKind.PaymentOrder, "OPENED"), null, "OPENED", 1, at, doc);
        return new EntityChange(entity, 0, evt, [new NewNotification(HeraldId.New(HeraldId.Notification, TimeProvider.System), _endpoint, $"{{\"id\":\"{id}\"}}", Immediate: !parked, Parked: parked)], null);
    }

    [Fact]
    public async Task AChangeForADisabledEndpoint_WakesNoClaim_OneLeftToTheQueueDoes()
    {
        // No hand-off: whatever is not parked is written for a claim to find.
        var signal = new DeliverySignal();
        await using var writer = new StoreWriter(_store, handOff: null, signal);

        Assert.Equal(CommitResult.Committed, await writer.CommitAsync(NewChange(parked: true)));
        // Parked, it waits for its endpoint to be enabled: a claim now would find nothing.
        Assert.False(signal.TakeClaimable());
        Assert.Empty(await _store.ClaimDueAsync(TimeProvider.System.GetUtcNow(), Lease, 10));

        var queued = NewChange();
        Assert.Equal(CommitResult.Committed, await writer.CommitAsync(queued));
        Assert.True(signal.TakeClaimable());
        Assert.Equal(queued.Notifications[0].Id, Assert.Single(await _store.ClaimDueAsync(TimeProvider.System.GetUtcNow(), Lease, 10)).Id);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 3)]
    public async Task ARoundTakenIntoTheTransaction_IsHandedOver_OnlyWhileTheHandOffHasRoomForIt(int room, int handedOver)
    {
        var store = Infrastructure.StoreProxy.Over<PausingStore>(_store);
        var signal = new DeliverySignal();
        var handOff = new DeliveryHandOff(signal);
        handOff.Open(room, Lease);
        await using var writer = new StoreWriter(store, handOff, signal);
        var first = NewChange();
        var later = new[] { NewChange(), NewChange() };

        // The first change's round is written; the transaction asks for more while two others wait.
        var committing = writer.CommitAsync(first);
        List<Task<CommitResult>> joining;
        try
        {
            Assert.True(Infrastructure.StoreProxy.Of<PausingStore>(store).Asked.Wait(TimeSpan.FromSeconds(10)));
            // CommitAsync queues its change before it returns.
            joining = later.Select(writer.CommitAsync).ToList();
            Assert.All(joining, t => Assert.False(t.IsCompleted));
        }
        finally
        {
            // Never left holding SQLite's write lock, whatever failed.
            Infrastructure.StoreProxy.Of<PausingStore>(store).Resume.Set();
        }

        Assert.Equal(CommitResult.Committed, await committing);
        Assert.All(await Task.WhenAll(joining), r => Assert.Equal(CommitResult.Committed, r));
        Assert.Equal(1, Infrastructure.StoreProxy.Of<PausingStore>(store).Transactions);
        // The first round always fits; the second (two notifications) only beside it in a room of three.
        var handed = handOff.Take(10);
        Assert.Equal(handedOver, handed.Count);
        Assert.Equal(first.Notifications[0].Id, handed[0].Id);
        Assert.All(handed, n => Assert.NotNull(n.LeaseToken));
        // What was not handed over is anyone's to claim at once; what was, is leased away.
        var claimable = await _store.ClaimDueAsync(TimeProvider.System.GetUtcNow(), Lease, 10);
        Assert.Equal(later.Skip(handedOver - 1).Select(c => c.Notifications[0].Id).Order(), claimable.Select(n => n.Id).Order());
    }

    /// <summary>
    /// The real store, except that a batch's transaction, asked for its first round of more, waits
    /// until told to go on: what the test queues meanwhile is then what that round takes.
    /// </summary>
    public class PausingStore : Infrastructure.StoreProxy
    {
        private int _paused;

        public ManualResetEventSlim Asked { get; } = new();

        public ManualResetEventSlim Resume { get; } = new();

        public int Transactions { get; private set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IHeraldStore.WriteBatchAsync) && args![4] is Func<WriteRound?> more)
            {
                Transactions++;
                args[4] = new Func<WriteRound?>(() =>
                {
                    if (Interlocked.Exchange(ref _paused, 1) == 0)
                    {
                        Asked.Set();
                        if (!Resume.Wait(TimeSpan.FromSeconds(30)))
                        {
                            throw new TimeoutException("the test never let the transaction go on");
                        }
                    }
                    return more();
                });
            }
            return Forward(targetMethod, args);
        }
    }
}
