using System.Reflection;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Delivery;

public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task Workers_WhoseClaimsFail_BackOff_RatherThanTryingEverySecond()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b =>
            b.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<FailingClaims>(sp.GetRequiredService<SqliteStore>())));
        var store = StoreProxy.Of<FailingClaims>(herald.Services.GetRequiredService<IHeraldStore>());
        await HeraldHost.EventuallyAsync(() => Task.FromResult(store.Claims > 0));

        // The database stops answering claims (as a claim does, once it is under way: a faulted task).
        store.Failing = true;
        var failedBefore = store.Failed;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < until)
        {
            // The workers' poll waits on the node's clock: it comes round at once.
            herald.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(100);
        }
        var failed = store.Failed - failedBefore;

        // 1 s doubling: tried at about 0, 1, 3 and 7 s, not every second.
        Assert.InRange(failed, 2, 5);
    }

    /// <summary>The real store, whose claims fail once <see cref="Failing"/> is set.</summary>
    public class FailingClaims : StoreProxy
    {
        private int _claims;
        private int _failed;

        public volatile bool Failing;

        public int Claims => Volatile.Read(ref _claims);

        public int Failed => Volatile.Read(ref _failed);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IHeraldStore.ClaimDueAsync))
            {
                Interlocked.Increment(ref _claims);
                if (Failing)
                {
                    Interlocked.Increment(ref _failed);
                    return FailAsync();
                }
            }
            return Forward(targetMethod, args);
        }

        private static async Task<IReadOnlyList<ClaimedNotification>> FailAsync()
        {
            await Task.Yield();
            throw new IOException("the database cannot be reached");
        }
    }
}
