using Herald.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Delivery;

public sealed class LeaseTests
{
    [Fact]
    public async Task HostStoppedWhileHoldingLease_DeliversAfterRestartOnceLeaseEnds()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-lease-" + Guid.NewGuid().ToString("N"));
        await using var receiver = await TestReceiver.StartAsync();
        try
        {
            string entityId;
            string webhookId;
            var first = await HeraldHost.StartAsync(dataDirectory: data);
            string key;
            {
                using var merchant = await first.NewMerchantAsync();
                key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
                await merchant.AddEndpointAsync(receiver.Url, "transaction");
                receiver.Hold();
                entityId = await merchant.NewTransactionAsync();
                // The worker has claimed the notification and is waiting for the receiver's answer.
                webhookId = (await receiver.WaitForAsync(1)).Headers["webhook-id"];
            }
            await first.StopAsync();
            receiver.Release();

            var clock = new FakeTimeProvider(HeraldHost.Start + TimeSpan.FromSeconds(5));
            await using var second = await HeraldHost.StartAsync(dataDirectory: data, clock: clock);
            using var again = second.As(key);
            var n = (await again.NotificationsAsync($"entity_id={entityId}"))[0]!;
            Assert.Equal("pending", n.Str("status"));
            Assert.Equal(0, n["attempt_count"]!.GetValue<int>());

            // Still leased by the stopped node: not tried before the lease ends.
            clock.Advance(TimeSpan.FromSeconds(30));
            await Task.Delay(300);
            Assert.Single(receiver.Received);

            await second.AdvanceUntilAsync(TimeSpan.FromSeconds(60), async () => receiver.Received.Count >= 2);
            var delivered = await receiver.WaitForAsync(2);
            Assert.Equal(webhookId, delivered.Headers["webhook-id"]);
            await HeraldHost.EventuallyAsync(async () => (await again.NotificationsAsync($"entity_id={entityId}"))[0]!.Str("status") == "succeeded");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
