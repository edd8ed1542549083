using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Api;

/// <summary>Two changes of one endpoint made at once both stand, or one is refused: none answered 200 is undone by the other.</summary>
public sealed class EndpointConcurrentChangeTests
{
    [Fact]
    public async Task TwoChangesReadAlongsideEachOther_InOneMillisecond_BothStand()
    {
        // The clock stands still: every write is in the millisecond of the one before it.
        await using var herald = await HeraldHost.StartAsync(configure: b =>
            b.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<InterleavingStore>(sp.GetRequiredService<SqliteStore>())));
        using var merchant = await herald.NewMerchantAsync();
        var (endpoint, _) = await merchant.AddEndpointAsync("https://merchant.example/hooks", "thin");

        // Each reads the endpoint before the other writes it.
        var describe = merchant.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { description = "orders" });
        var slow = merchant.PatchAsJsonAsync($"/v1/endpoints/{endpoint}", new { timeout_seconds = 7 });
        using (var described = await describe)
        using (var slowed = await slow)
        {
            Assert.Equal(HttpStatusCode.OK, described.StatusCode);
            Assert.Equal(HttpStatusCode.OK, slowed.StatusCode);
        }

        var now = await merchant.GetJsonAsync($"/v1/endpoints/{endpoint}");
        Assert.Equal("orders", now.Str("description"));
        Assert.Equal(7, (int)now["timeout_seconds"]!);
    }

    /// <summary>
    /// The real store, whose first endpoint write waits until a second one is asked for (both having
    /// read the endpoint as it was), and that second one until the first is written.
    /// </summary>
    public class InterleavingStore : StoreProxy
    {
        private readonly TaskCompletionSource _secondAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _firstWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _writes;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name != nameof(IHeraldStore.UpdateEndpointAsync))
            {
                return Forward(targetMethod, args);
            }
            return Interlocked.Increment(ref _writes) switch
            {
                1 => FirstAsync(targetMethod, args),
                2 => SecondAsync(targetMethod, args),
                _ => Forward(targetMethod, args),
            };
        }

        private async Task<bool> FirstAsync(MethodInfo method, object?[]? args)
        {
            await _secondAsked.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var written = await (Task<bool>)Forward(method, args)!;
            _firstWritten.SetResult();
            return written;
        }

        private async Task<bool> SecondAsync(MethodInfo method, object?[]? args)
        {
            _secondAsked.SetResult();
            await _firstWritten.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return await (Task<bool>)Forward(method, args)!;
        }
    }
}
