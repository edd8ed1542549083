using Herald.Errors;
using Herald.Ids;
using Herald.Server.Auth;
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

        group.MapPost("", (HttpContext http, IHeraldStore store, TimeProvider time) => IssueAsync(store, Caller.Of(http).Merchant, time, http.RequestAborted))
        .Produces<ApiKeyResponse>(StatusCodes.Status201Created)
        .WithSummary("Create another API key for the merchant; the key is shown once.");

        group.MapGet("", async (HttpContext http, IHeraldStore store) =>
        {
            var keys = await store.ListApiKeysAsync(Caller.Of(http).Merchant, http.RequestAborted);
            return JsonResults.Ok(new ListResponse<ApiKeyResponse>(
                keys.Select(k => new ApiKeyResponse(k.Id, EndpointResponse.Time(k.CreatedAt), EndpointResponse.Time(k.RevokedAt))).ToList(), false));
        })
        .Produces<ListResponse<ApiKeyResponse>>()
        .WithSummary("The merchant's API keys (never the keys themselves).");

        group.MapDelete("/{id}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            if (!await store.RevokeApiKeyAsync(Caller.Of(http).Merchant, id, time.GetUtcNow(), http.RequestAborted))
            {
                throw HeraldException.NotFound($"API key {id}");
            }
            return Results.NoContent();
        })
        .Produces(StatusCodes.Status204NoContent)
        .WithSummary("Revoke an API key; it stops working at once.");
    }

    /// <summary>Makes the merchant another key, shown in the answer once.</summary>
    public static async Task<IResult> IssueAsync(IHeraldStore store, string merchant, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = ApiKeys.NewKey();
        var record = new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant, ApiKeys.Hash(key), time.GetUtcNow());
        // Each key has its own rate-limit bucket: without a bound, minting keys multiplied the limit.
        if (!await store.CreateApiKeyAsync(record, ApiKeys.MaxActive, cancellationToken))
        {
            throw new HeraldException(ErrorKind.Conflict, $"a merchant holds at most {ApiKeys.MaxActive} active API keys; revoke one first");
        }
        return JsonResults.Created($"/v1/api_keys/{record.Id}", new ApiKeyResponse(record.Id, EndpointResponse.Time(record.CreatedAt), null, key));
    }
}
