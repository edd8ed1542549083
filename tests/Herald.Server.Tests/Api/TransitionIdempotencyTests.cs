using System.Net;
using System.Reflection;
using System.Text;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Api;

/// <summary>
/// A transition retried with its <c>Idempotency-Key</c> while the first call is being recorded is
/// answered as the first was, never refused for the state that first call made.
/// </summary>
public sealed class TransitionIdempotencyTests
{
    [Fact]
    public async Task ARetryWhoseKeyLookUpRanBeforeTheFirstCommitted_IsAnsweredAsTheFirstWas()
    {
        await using var herald = await HeraldHost.StartAsync(configure: b =>
            b.Services.AddSingleton<IHeraldStore>(sp => StoreProxy.Over<LateKeyStore>(sp.GetRequiredService<SqliteStore>())));
        var store = StoreProxy.Of<LateKeyStore>(herald.Services.GetRequiredService<IHeraldStore>());
        using var merchant = await herald.NewMerchantAsync();
        var id = (await merchant.PostJsonAsync("/v1/transactions", new { paymentAmount = 130, currency = "BRL" })).Str("internalId");
        var path = $"/v1/transactions/{id}/transitions";
        var first = await MoveAsync(merchant, path, "process-1");
        Assert.Equal(HttpStatusCode.OK, first.Status);

        // The retry looks its key up as the first call is still committing (it finds nothing), and
        // reads the entity once it has: in the state the first call moved it to.
        store.HideNextKey();
        var retry = await MoveAsync(merchant, path, "process-1");
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(2, (await merchant.GetJsonAsync($"/v1/events?entity_id={id}"))["data"]!.AsArray().Count);
    }

    private static async Task<(HttpStatusCode Status, string Body)> MoveAsync(HttpClient merchant, string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"to":"PROCESSING"}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await merchant.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The real store, whose next idempotency key look-up finds nothing, as one made just before the key was committed.</summary>
    public class LateKeyStore : StoreProxy
    {
        private int _hide;

        public void HideNextKey() => Volatile.Write(ref _hide, 1);

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IHeraldStore.FindIdempotencyKeyAsync) && Interlocked.Exchange(ref _hide, 0) == 1)
            {
                return Task.FromResult<(string EventId, string RequestHash)?>(null);
            }
            return Forward(targetMethod, args);
        }
    }
}
