using Herald.Delivery;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Delivery;

/// <summary>
/// When writing stalls, sending slows with it: an answered attempt hands its slot to the next
/// request while it waits for its outcome to be written, but only while fewer than twice the slots'
/// number of answered attempts wait; past that the slots stay taken.
/// </summary>
public sealed class BackPressureTests : IAsyncLifetime
{
    private const int Slots = 4;
    private HeraldHost _herald = null!;
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _herald = await HeraldHost.StartAsync(configure: b => b.Services.Configure<DeliveryOptions>(o => o.MaxConcurrency = Slots));
        _receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _herald.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task WhileOutcomesCannotBeWritten_SendingStopsOnceTwiceTheSlotsWaitForTheirRecord_AndEverythingArrivesAfter()
    {
        // As many merchants as slots, each with an endpoint: a window of one at first (a quarter of
        // four slots) and a merchant's share of one, whether their held attempts are then taken for
        // slow answers or not: one attempt of each at once fills the node.
        var merchants = new List<HttpClient>();
        for (var i = 0; i < Slots; i++)
        {
            var merchant = await _herald.NewMerchantAsync($"Merchant {i}");
            merchants.Add(merchant);
            await merchant.AddEndpointAsync($"{_receiver.Url}/{i}", "transaction");
        }
        _receiver.Hold();
        // Four times the slots: as many as this node's workers take over straight from recording.
        const int notifications = 4 * Slots;
        for (var i = 0; i < notifications / Slots; i++)
        {
            foreach (var merchant in merchants)
            {
                await merchant.NewTransactionAsync();
            }
        }
        await _receiver.WaitForAsync(Slots);

        // Another connection takes the database's write lock: Herald's writer waits for it.
        await using (var blocker = new SqliteConnection($"Data Source={Path.Combine(_herald.DataDirectory, "herald.db")};Pooling=False"))
        {
            await blocker.OpenAsync();
            await using var transaction = (SqliteTransaction)await blocker.BeginTransactionAsync();
            await using (var write = blocker.CreateCommand())
            {
                // BEGIN IMMEDIATE already holds the lock; a write makes the intent plain.
                write.Transaction = transaction;
                write.CommandText = "UPDATE merchants SET name = name WHERE id = 'mer_operator'";
                await write.ExecuteNonQueryAsync();
            }
            _receiver.Release();

            // The four slots' attempts are answered and wait to be written; their slots go on to
            // four more, and those to four more; then eight wait and the slots stay taken. Only
            // the notifications the workers hold in hand can go (one recorded as the hand-over
            // filled waits for a claim, which waits for the database): past the eight waiting,
            // never past the twelve the slots can take, however long the lock is held.
            await _receiver.WaitForAsync(2 * Slots + 1, TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.InRange(_receiver.Received.Count, 2 * Slots + 1, 3 * Slots);
            await transaction.RollbackAsync();
        }

        await HeraldHost.EventuallyAsync(async () =>
        {
            var succeeded = 0;
            foreach (var merchant in merchants)
            {
                succeeded += (await merchant.NotificationsAsync("status=succeeded&limit=100")).Count;
            }
            return succeeded == notifications;
        });
        Assert.Equal(notifications, _receiver.Received.Count);
        Assert.Equal(notifications, _receiver.Received.Select(r => (r.Path, r.Headers["webhook-id"])).Distinct().Count());
        merchants.ForEach(m => m.Dispose());
    }
}
