using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json.Nodes;
using Herald.Server.Errors;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Scaling;

/// <summary>
/// A PostgreSQL server that stops answering without closing its connections (hung, cut off by a
/// partition, mid-failover): a cluster of the test's own, frozen with SIGSTOP and thawed with SIGCONT.
/// </summary>
public sealed class FrozenPostgresTests
{
    /// <summary>How long the test waits for an answer: the bound, and room for a busy machine.</summary>
    private static readonly TimeSpan Patience = DatabaseWatch.AnswerWithin + TimeSpan.FromSeconds(3);

    [Fact]
    public async Task ReadsAndChanges_WhileTheServerIsFrozen_Answer503InTime_AndAfterItsThaw_TheChangesRetriedWithTheirKeysAreRecordedOnce()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: cluster.ConnectionString, configure: builder =>
            builder.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<FreezingStore>(sp.GetRequiredService<PostgresStore>())));
        var store = StoreProxy.Of<FreezingStore>(herald.Services.GetRequiredService<IHeraldStore>());
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "transaction");
        var tx = await merchant.NewTransactionAsync();
        await receiver.WaitForAsync(1);

        // The transition's change is handed to the server, which stops as it arrives; the read and the
        // create come while it is stopped.
        store.FreezeAtNextChange(cluster);
        var frozen = Stopwatch.StartNew();
        var move = AskAsync(merchant, HttpMethod.Post, $"/v1/transactions/{tx}/transitions", new { to = "COMPLETED" }, "complete-1");
        await store.Frozen.Task.WaitAsync(Patience);
        var read = AskAsync(merchant, HttpMethod.Get, $"/v1/notifications?entity_id={tx}", null, null);
        var create = AskAsync(merchant, HttpMethod.Post, "/v1/transactions", Merchant.SeedTransaction(), "create-1");
        var answers = await Task.WhenAll(read, move, create);

        Assert.True(frozen.Elapsed < Patience, $"answered after {frozen.Elapsed}");
        var readError = await ApiErrors.ExpectErrorAsync(answers[0], 503, "did not answer");
        Assert.DoesNotContain("Idempotency-Key", readError.ToJsonString(), StringComparison.Ordinal);
        foreach (var answer in answers)
        {
            Assert.Equal("5", answer.Headers.RetryAfter?.ToString());
            // The request's work still holds its connection: the caller asks again on another.
            Assert.True(answer.Headers.ConnectionClose);
        }
        foreach (var change in answers[1..])
        {
            var body = await ApiErrors.ExpectErrorAsync(change, 503, "did not answer");
            var message = body["message"]!.AsArray()[0]!.GetValue<string>();
            Assert.Contains("may still be recorded", message, StringComparison.Ordinal);
            Assert.Contains("same Idempotency-Key", message, StringComparison.Ordinal);
            Assert.DoesNotContain("nothing was done", message, StringComparison.Ordinal);
        }

        await cluster.ThawAsync();
        // The same requests again, with the same keys: each change is recorded once, whichever of the two made it.
        var moved = await AnswerAsync(merchant, HttpMethod.Post, $"/v1/transactions/{tx}/transitions", new { to = "COMPLETED" }, "complete-1", 200);
        Assert.Equal("COMPLETED", moved.Str("status"));
        var created = await AnswerAsync(merchant, HttpMethod.Post, "/v1/transactions", Merchant.SeedTransaction(), "create-1", 201);
        Assert.Single(await merchant.NotificationsAsync($"entity_id={tx}&event_type=TRANSACTION.COMPLETED"));
        Assert.Single(await merchant.NotificationsAsync($"entity_id={created.Str("internalId")}"));
        Assert.Equal(2, (await merchant.NotificationsAsync("event_type=TRANSACTION.INIT")).Count);

        // The writer is not stuck: a new change is recorded, and everything recorded is delivered.
        var after = await merchant.NewTransactionAsync();
        await receiver.WaitForAsync(4);
        var delivered = receiver.Received.Select(r => JsonNode.Parse(r.Body)!.Str("internalId") + " " + JsonNode.Parse(r.Body)!.Str("status")).Order().ToList();
        Assert.Equal(new[] { $"{tx} INIT", $"{tx} COMPLETED", $"{created.Str("internalId")} INIT", $"{after} INIT" }.Order(), delivered);
    }

    [Fact]
    public async Task ARead_TheServerAnswersSlowly_IsAnsweredWhenItEnds_NotCutShort()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var herald = await HeraldHost.StartAsync(postgres: db.ConnectionString, configure: builder =>
            builder.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<SlowListStore>(sp.GetRequiredService<PostgresStore>())));
        using var merchant = await herald.NewMerchantAsync();
        var tx = await merchant.NewTransactionAsync();

        // Longer than a request is watched before the database is asked whether it answers, which it does.
        var slow = Stopwatch.StartNew();
        var listed = await merchant.NotificationsAsync($"entity_id={tx}");

        Assert.True(slow.Elapsed >= SlowListStore.Delay, $"answered after {slow.Elapsed}");
        Assert.Empty(listed);
    }

    /// <summary>The node's PostgreSQL store, whose list of notifications takes <see cref="Delay"/> longer, the server answering meanwhile.</summary>
    public class SlowListStore : StoreProxy
    {
        public static readonly TimeSpan Delay = DatabaseWatch.AnswerWithin * 0.7;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            return targetMethod.Name == nameof(IHeraldStore.ListNotificationsAsync) ? SlowlyAsync(targetMethod, args) : Forward(targetMethod, args);
        }

        private async Task<Herald.Storage.Model.Page<Herald.Storage.Model.Notification>> SlowlyAsync(MethodInfo method, object?[]? args)
        {
            await Task.Delay(Delay);
            return await (Task<Herald.Storage.Model.Page<Herald.Storage.Model.Notification>>)Forward(method, args)!;
        }
    }

    /// <summary>The node's PostgreSQL store, which stops the server as the next batch holding a change reaches it.</summary>
    public class FreezingStore : StoreProxy
    {
        private PostgresCluster? _freezeAt;

        public void FreezeAtNextChange(PostgresCluster cluster) => _freezeAt = cluster;

        public TaskCompletionSource Frozen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IHeraldStore.WriteBatchAsync) && args![0] is System.Collections.ICollection { Count: > 0 }
                && Interlocked.Exchange(ref _freezeAt, null) is { } cluster)
            {
                cluster.FreezeAsync().GetAwaiter().GetResult();
                Frozen.SetResult();
            }
            return Forward(targetMethod, args);
        }
    }

    /// <summary>The node's answer, or a failure when none came within <see cref="Patience"/>.</summary>
    private static async Task<HttpResponseMessage> AskAsync(HttpClient client, HttpMethod method, string path, object? body, string? key)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        using var limit = new CancellationTokenSource(Patience);
        try
        {
            var response = await client.SendAsync(request, limit.Token);
            await response.Content.LoadIntoBufferAsync(limit.Token);
            return response;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {path}: no answer within {Patience.TotalSeconds} s while the database was frozen");
        }
    }

    private static async Task<JsonObject> AnswerAsync(HttpClient client, HttpMethod method, string path, object body, string key, int status)
    {
        using var answer = await AskAsync(client, method, path, body, key);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True((int)answer.StatusCode == status, $"{method} {path}: expected {status}, got {(int)answer.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
