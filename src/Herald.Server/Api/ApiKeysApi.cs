using Herald.Errors;
using Herald.Ids;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class ApiKeysApi
{
    public static void MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/api_keys").WithTags("API keys");

        group.MapPost("", async (HttpContext http, IHeraldStore store, TimeProvider time) =>
            await IssueAsync(store, Caller.Of(http).Merchant, await ScopeAsync(http), time, http.RequestAborted))
        .Accepts<CreateApiKeyRequest>(isOptional: true, "application/json")
        .Produces<ApiKeyResponse>(StatusCodes.Status201Created)
        .WithName("createApiKey")
        .Refuses(StatusCodes.Status409Conflict, TooManyKeys)
        .WithMetadata(AlwaysAnswered.ShownOnce("api_key"))
        .WithSummary("Create another API key for the merchant (scope full, the default, or read: GET only); the key is shown once.");

        group.MapGet("", (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
            ListAsync(store, Caller.Of(http).Merchant, limit, starting_after, ending_before, http.RequestAborted))
        .Produces<ListResponse<ApiKeyResponse>>()
        .WithName("listApiKeys")
        .WithSummary("The merchant's API keys (never the keys themselves).");

        group.MapGet("/{id}", (string id, HttpContext http, IHeraldStore store) => GetAsync(store, Caller.Of(http).Merchant, id, http.RequestAborted))
        .Produces<ApiKeyResponse>()
        .WithName("getApiKey")
        .WithSummary("One of the merchant's API keys: when it was made and revoked (never the key itself).");

        group.MapDelete("/{id}", (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
            RevokeAsync(store, Caller.Of(http).Merchant, id, time, http.RequestAborted))
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("revokeApiKey")
        .Refuses(StatusCodes.Status409Conflict, RevokedAlready)
        .WithSummary("Revoke an API key; it stops working at once.");
    }

    /// <summary>What a create of a key refused for the merchant's number of keys is (409).</summary>
    public static readonly string TooManyKeys = $"the merchant holds {ApiKeys.MaxActive} unrevoked keys already, the most it may";

    /// <summary>What a revoke of a key revoked before is (409).</summary>
    public const string RevokedAlready = "the key is revoked already";

    /// <summary>A page of the merchant's keys, newest first: when each was made and revoked, never the key.</summary>
    public static async Task<IResult> ListAsync(IHeraldStore store, string merchant, int? limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken) =>
        JsonResults.Ok(ListPaging.Of(await store.ListApiKeysPageAsync(merchant, ListPaging.Take(limit, startingAfter, endingBefore, HeraldId.ApiKey, "an API key"),
            startingAfter, endingBefore, cancellationToken), Response));

    /// <summary>One of the merchant's keys, revoked or not (404 when it has no such key).</summary>
    public static async Task<IResult> GetAsync(IHeraldStore store, string merchant, string id, CancellationToken cancellationToken) =>
        JsonResults.Ok(Response(await store.GetApiKeyAsync(merchant, id, cancellationToken) ?? throw HeraldException.NotFound("API key", id)));

    private static ApiKeyResponse Response(ApiKey key) => new(key.Id, key.Scope, EndpointResponse.Time(key.CreatedAt), EndpointResponse.Time(key.RevokedAt));

    /// <summary>The scope a key is asked for with (<c>{scope?}</c>, optional body): full unless it says read.</summary>
    public static async Task<string> ScopeAsync(HttpContext http)
    {
        var request = await HeraldJson.ReadOptionalAsync(http.Request, new CreateApiKeyRequest());
        return Scope(request.Scope);
    }

    /// <summary>
    /// A scope as given (null: full); 400 for any other word, and for an empty one: most likely a
    /// variable left unset, which must not make a key that may do more than was meant.
    /// </summary>
    public static string Scope(string? asked) => asked switch
    {
        null => ApiKeyScopes.Full,
        "" => throw new HeraldException(ErrorKind.BadRequest, "scope is empty: give full or read, or leave it out for a full key"),
        _ when ApiKeyScopes.All.Contains(asked, StringComparer.Ordinal) => asked,
        _ => throw new HeraldException(ErrorKind.BadRequest, $"scope must be full (everything the merchant may) or read (GET only), not {HeraldException.Quote(asked)}"),
    };

    /// <summary>Revokes one of the merchant's keys (204); 409 when it is revoked already, 404 when the merchant has no such key.</summary>
    public static async Task<IResult> RevokeAsync(IHeraldStore store, string merchant, string id, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await store.RevokeApiKeyAsync(merchant, id, time.GetUtcNow(), cancellationToken))
        {
            throw await store.GetApiKeyAsync(merchant, id, cancellationToken) is { RevokedAt: { } revokedAt }
                ? new HeraldException(ErrorKind.Conflict, $"API key {id} is revoked already (at {EndpointResponse.Time(revokedAt)}): nothing changed")
                : HeraldException.NotFound("API key", id);
        }
        return Results.NoContent();
    }

    /// <summary>
    /// Makes the merchant another key, shown in the answer once; its Location is the key's path
    /// under the route it was posted to, which also reads and revokes the merchant's keys.
    /// </summary>
    public static async Task<IResult> IssueAsync(IHeraldStore store, string merchant, string scope, TimeProvider time, CancellationToken cancellationToken)
    {
        var (record, key) = await MakeAsync(store, merchant, time, cancellationToken, scope);
        return JsonResults.Created(record.Id, Response(record) with { ApiKey = key });
    }

    /// <summary>Makes the merchant another key: its record, and the key itself, to be shown this once.</summary>
    public static async Task<(ApiKey Record, string Key)> MakeAsync(IHeraldStore store, string merchant, TimeProvider time, CancellationToken cancellationToken, string scope = ApiKeyScopes.Full)
    {
        var key = ApiKeys.NewKey();
        var record = new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant, ApiKeys.Hash(key, scope), time.GetUtcNow(), Scope: scope);
        // Each key has its own rate-limit bucket: without a bound, minting keys multiplied the limit.
        if (!await store.CreateApiKeyAsync(record, ApiKeys.MaxActive, cancellationToken))
        {
            throw new HeraldException(ErrorKind.Conflict, $"a merchant holds at most {ApiKeys.MaxActive} active API keys; revoke one first");
        }
        return (record, key);
    }
}
