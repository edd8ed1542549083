using System.Text.Json;
using Herald.Delivery.Recording;
using Herald.Errors;
using Herald.Server.Json;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

/// <summary>
/// Route metadata: the route honours an <c>Idempotency-Key</c> header, so that a call retried with
/// it makes its change once. The OpenAPI document lists the header on such routes.
/// </summary>
public sealed class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";

    /// <summary>The longest key taken.</summary>
    public const int MaxLength = 255;

    /// <summary>
    /// The request's <c>Idempotency-Key</c>, null when none is given: one key, of at most
    /// <see cref="MaxLength"/> characters (two header lines would be two keys).
    /// </summary>
    public static string? Read(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keys = request.Headers[Name];
        if (keys.Count > 1)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{Name} is given {keys.Count} times; give one");
        }
        var key = keys.ToString();
        if (keys.Count == 1 && key.Length == 0)
        {
            // Sent, but empty: most likely a variable left unset, and a retry with it would record twice.
            throw new HeraldException(ErrorKind.BadRequest, $"{Name} is empty: give a key, or leave the header out");
        }
        return key.Length == 0 ? null : Validation.Text(key, Name, MaxLength);
    }

    /// <summary>
    /// The key of a create of <paramref name="what"/> (an endpoint, a checkout preference) with the
    /// hash of its request as read (members in name order, a field left out the same as one given as
    /// null); null without a key.
    /// </summary>
    public static (string Key, string RequestHash)? ForCreate<T>(string? key, string what, T request) =>
        key is null ? null : (key, $"{what}:{EntitiesApi.CanonicalHash(JsonSerializer.SerializeToNode(request, HeraldJson.Api)!)}");

    /// <summary>
    /// The id of what an earlier request with this key made, when it was this same request; null
    /// when no request took the key. A key taken by another request is refused (422): a key is the
    /// merchant's, for one request whatever the route.
    /// </summary>
    public static async Task<string?> MadeByAsync(IHeraldStore store, string merchantId, (string Key, string RequestHash) key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var found = await store.FindIdempotencyKeyAsync(merchantId, key.Key, cancellationToken);
        return found switch
        {
            null => null,
            { RequestHash: var hash } when hash != key.RequestHash => throw new HeraldException(ErrorKind.Unprocessable, ChangeRecorder.KeyUsedElsewhere),
            { EventId: var made } => made,
        };
    }

    /// <summary>
    /// Runs a keyed create: answers from what an earlier request with the key made (<paramref name="replay"/>
    /// given its id), else creates (<paramref name="create"/>, null when another request took the key
    /// meanwhile, which is then answered from).
    /// </summary>
    public static async Task<TResult> CreateOnceAsync<TResult>(IHeraldStore store, string merchantId, (string Key, string RequestHash)? key,
        Func<Task<TResult?>> create, Func<string, Task<TResult>> replay, CancellationToken cancellationToken) where TResult : class
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(replay);
        if (key is { } k && await MadeByAsync(store, merchantId, k, cancellationToken) is { } earlier)
        {
            return await replay(earlier);
        }
        if (await create() is { } made)
        {
            return made;
        }
        return await replay(await MadeByAsync(store, merchantId, key!.Value, cancellationToken) ?? throw new HeraldException(ErrorKind.Conflict, ChangeRecorder.KeyUnderWay));
    }
}
