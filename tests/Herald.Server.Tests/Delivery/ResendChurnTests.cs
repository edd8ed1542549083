using System.Net.Http.Json;
using System.Reflection;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Delivery;

public sealed class ResendChurnTests
{
    [Fact]
    public async Task Resends_HeldBackByTheEndpointsRateLimit_WriteNothingWhileTheyWait()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(configure: b =>
            b.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<CountingStore>(sp.GetRequiredService<SqliteStore>())));
        var counts = StoreProxy.Of<CountingStore>(herald.Services.GetRequiredService<IHeraldStore>());
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
        for (var i = 0; i < 20; i++)
        {
            await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" });
        }
        await receiver.WaitForAsync(20);
        using (var patched = await merchant.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { rate_limit = 1 }))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, patched.StatusCode);
        }

        // Twenty resends at one a second: those waiting their turn ask the endpoint's limit, not the database.
        foreach (var n in await merchant.NotificationsAsync("limit=100"))
        {
            await merchant.PostJsonAsync($"/v1/notifications/{n!.Str("id")}/resend", new { }, 202);
        }
        var leasesBefore = counts.Leases;
        var sentBefore = receiver.Received.Count;
        await Task.Delay(TimeSpan.FromSeconds(5));
        var sent = receiver.Received.Count - sentBefore;
        var leases = counts.Leases - leasesBefore;
        Assert.InRange(sent, 1, 8);
        Assert.True(leases <= sent + 3, $"{sent} sent in 5 s, but {leases} leases taken");
    }

    /// <summary>The real store, counting the leases manual attempts take.</summary>
    public class CountingStore : StoreProxy
    {
        private int _leases;

        public int Leases => Volatile.Read(ref _leases);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IHeraldStore.LeaseForResendAsync))
            {
                Interlocked.Increment(ref _leases);
            }
            return Forward(targetMethod, args);
        }
    }
}
