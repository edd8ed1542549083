using System.Reflection;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Scaling;

/// <summary>Recovers asked of several Herald nodes sharing one PostgreSQL database.</summary>
public sealed class PostgresRecoverTests
{
    private const string Since = "2026-11-01T00:00:00Z";

    [Fact]
    public async Task Recovers_AskedAtOnceOfTwoNodes_EachReadingBeforeEitherQueued_QueueEachFailedOneOnce_AndSendItOnce()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new FakeTimeProvider(HeraldHost.Start);
        // Each node's recover reads what resends wait to send, then waits until the other's has read too.
        var bothRead = new Rendezvous(2);
        await using var a = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock, configure: ReadingTogether(bothRead));
        await using var b = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock, configure: ReadingTogether(bothRead));
        using var merchant = await FailedOnBothAsync(a, b, receiver, 3);
        var (onA, onB, endpoint, failed) = merchant;

        // The receiver still fails them: every resend made is one more request it gets. It holds
        // them meanwhile, so that the first recover's resends still wait to be answered when the
        // second one's are kept (answered at once, they could be over by then, and so no longer
        // waiting to send).
        var before = receiver.Received.Count;
        receiver.Hold();
        var answers = await Task.WhenAll(
            onA.PostJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = Since }, 202),
            onB.PostJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = Since }, 202));

        Assert.Equal([0, 3], answers.Select(r => r["queued"]!.GetValue<int>()).Order());
        Assert.All(answers, r => Assert.True(r["complete"]!.GetValue<bool>()));
        await receiver.WaitForAsync(before + 3);
        receiver.Release();
        await HeraldHost.EventuallyAsync(async () =>
            (await Task.WhenAll(failed.Select(n => onA.NotificationAsync(n.Id)))).All(d => d["attempts"]!.AsArray().Count >= 2));
        // Whatever a second copy would have taken.
        await Task.Delay(1500);
        Assert.Equal(failed.Select(n => n.EventId).Order(StringComparer.Ordinal),
            receiver.Received.Skip(before).Select(r => r.Headers["webhook-id"]).Order(StringComparer.Ordinal));
        foreach (var n in failed)
        {
            Assert.Equal(["schedule", "manual"], (await onA.NotificationAsync(n.Id))["attempts"]!.AsArray().Select(t => t!.Str("trigger")));
        }
    }

    [Fact]
    public async Task ARecover_AskedOfOneNode_WhileAnotherNodesResendOfItIsUnderWay_SendsItAgainOnceThatResendFails()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new FakeTimeProvider(HeraldHost.Start);
        await using var a = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        await using var b = await HeraldHost.StartAsync(postgres: db.ConnectionString, clock: clock);
        using var merchant = await FailedOnBothAsync(a, b, receiver, 1);
        var (onA, onB, endpoint, failed) = merchant;
        var n = failed[0].Id;

        // Node A's resend of it is under way (the receiver holds it, to fail it) when node B is asked for a recover.
        receiver.Hold();
        var before = receiver.Received.Count;
        await onA.PostJsonAsync($"/v1/notifications/{n}/resend", new { }, 202);
        await receiver.WaitForAsync(before + 1);
        var accepted = await onB.PostJsonAsync($"/v1/endpoints/{endpoint}/recover", new { since = Since }, 202);
        Assert.Equal(1, accepted["queued"]!.GetValue<int>());

        receiver.Status = 200;
        receiver.Release();
        await HeraldHost.EventuallyAsync(async () => (await onA.NotificationAsync(n)).Str("status") == "succeeded");
        Assert.Equal(before + 2, receiver.Received.Count);
        Assert.Equal(["schedule", "manual", "manual"], (await onA.NotificationAsync(n))["attempts"]!.AsArray().Select(t => t!.Str("trigger")));
    }

    private sealed record FailedNotification(string Id, string EventId);

    /// <summary>A merchant's client on each of two nodes, and its endpoint, whose receiver failed the first attempt of each notification in <see cref="Failed"/>.</summary>
    private sealed record Merchant(HttpClient OnA, HttpClient OnB, string Endpoint, IReadOnlyList<FailedNotification> Failed) : IDisposable
    {
        public void Dispose()
        {
            OnA.Dispose();
            OnB.Dispose();
        }
    }

    /// <summary>A new merchant on nodes <paramref name="a"/> and <paramref name="b"/>, with a thin endpoint at the receiver, which fails <paramref name="count"/> payment orders' notifications.</summary>
    private static async Task<Merchant> FailedOnBothAsync(HeraldHost a, HeraldHost b, TestReceiver receiver, int count)
    {
        var onA = await a.NewMerchantAsync();
        var onB = b.As(onA.DefaultRequestHeaders.Authorization!.Parameter!);
        var (endpoint, _) = await onA.AddEndpointAsync(receiver.Url, "thin");
        receiver.Status = 500;
        var failed = new List<FailedNotification>();
        for (var i = 0; i < count; i++)
        {
            var order = (await onA.PostJsonAsync("/v1/payment_orders", new { amount = 10 + i, currency = "BRL" })).Str("id");
            var n = await onA.WaitForAttemptsAsync(order, "PAYMENT_ORDER.OPENED", 1);
            failed.Add(new FailedNotification(n.Str("id"), n.Str("event_id")));
        }
        return new Merchant(onA, onB, endpoint, failed);
    }

    private static Action<WebApplicationBuilder> ReadingTogether(Rendezvous bothRead) => builder =>
        builder.Services.AddSingleton<IHeraldStore>(sp =>
        {
            var store = StoreProxy.Over<ReadingTogetherStore>(sp.GetRequiredService<PostgresStore>());
            StoreProxy.Of<ReadingTogetherStore>(store).BothRead = bothRead;
            return store;
        });

    /// <summary>A point several callers reach, each let on once all of them have.</summary>
    public sealed class Rendezvous(int callers)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public Task ReachAsync()
        {
            if (Interlocked.Increment(ref _arrived) == callers)
            {
                _all.SetResult();
            }
            return _all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>The real store, whose answer to what resends wait to send is held until every node sharing <see cref="BothRead"/> has had its own.</summary>
    public class ReadingTogetherStore : StoreProxy
    {
        public Rendezvous BothRead { get; set; } = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            return targetMethod.Name == nameof(IHeraldStore.ResendingAsync) ? ReadThenWaitAsync(targetMethod, args) : Forward(targetMethod, args);
        }

        private async Task<IReadOnlySet<string>> ReadThenWaitAsync(MethodInfo method, object?[]? args)
        {
            var waiting = await (Task<IReadOnlySet<string>>)Forward(method, args)!;
            await BothRead.ReachAsync();
            return waiting;
        }
    }
}
