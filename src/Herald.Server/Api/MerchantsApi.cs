using Herald.Ids;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Server.Portal;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class MerchantsApi
{
    public static void MapMerchants(this IEndpointRouteBuilder app)
    {
        // Every merchant route is the admin's: checked before a route's own filters (a body it refuses, say).
        var group = app.MapGroup("/v1/merchants").WithTags("Merchants").AdminOnly();
        group.MapPost("", async (HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            var request = await HeraldJson.ReadAsync<CreateMerchantRequest>(http.Request);
            var name = Validation.RequiredText(request.Name, "name", Validation.MaxMerchantName);
            var now = time.GetUtcNow();
            var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, time), name, now);
            var key = ApiKeys.NewKey();
            await store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant.Id, ApiKeys.Hash(key), now), http.RequestAborted);
            return JsonResults.Created(merchant.Id, MerchantResponse.From(merchant) with { ApiKey = key });
        })
        .Accepts<CreateMerchantRequest>("application/json")
        .Produces<MerchantResponse>(StatusCodes.Status201Created)
        .WithName("createMerchant")
        .WithMetadata(AlwaysAnswered.ShownOnce("api_key"))
        .WithSummary("Create a merchant (admin); its API key is shown once.");

        group.MapGet("", async (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            var take = ListPaging.Take(limit, starting_after, ending_before, HeraldId.Merchant, "a merchant");
            return JsonResults.Ok(ListPaging.Of(await store.ListMerchantsAsync(take, starting_after, ending_before, http.RequestAborted), MerchantResponse.From));
        })
        .Produces<ListResponse<MerchantResponse>>()
        .WithName("listMerchants")
        .WithSummary("The merchants, newest first (admin); starting_after (the last id) for the older page, ending_before (the first id) for the newer one.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            return JsonResults.Ok(MerchantResponse.From(await FindAsync(store, id, http.RequestAborted)));
        })
        .Produces<MerchantResponse>()
        .WithName("getMerchant")
        .WithSummary("One merchant (admin).");

        group.MapPatch("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            var request = await HeraldJson.ReadAsync<CreateMerchantRequest>(http.Request);
            var name = Validation.RequiredText(request.Name, "name", Validation.MaxMerchantName);
            var merchant = await FindAsync(store, id, http.RequestAborted);
            if (!await store.RenameMerchantAsync(id, name, http.RequestAborted))
            {
                throw Herald.Errors.HeraldException.NotFound("merchant", id);
            }
            return JsonResults.Ok(MerchantResponse.From(merchant with { Name = name }));
        })
        .Accepts<CreateMerchantRequest>("application/json")
        .Produces<MerchantResponse>()
        .WithName("updateMerchant")
        .WithSummary("Rename a merchant (admin).");

        group.MapGet("/{id}/api_keys", async (string id, HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.ListAsync(store, id, limit, starting_after, ending_before, http.RequestAborted);
        })
        .Produces<ListResponse<ApiKeyResponse>>()
        .WithName("listMerchantApiKeys")
        .WithSummary("A merchant's API keys (admin; never the keys themselves).");

        group.MapGet("/{id}/api_keys/{keyId}", async (string id, string keyId, HttpContext http, IHeraldStore store) =>
        {
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.GetAsync(store, id, keyId, http.RequestAborted);
        })
        .Produces<ApiKeyResponse>()
        .WithName("getMerchantApiKey")
        .WithSummary("One of a merchant's API keys (admin; never the key itself).");

        group.MapDelete("/{id}/api_keys/{keyId}", async (string id, string keyId, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.RevokeAsync(store, id, keyId, time, http.RequestAborted);
        })
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("revokeMerchantApiKey")
        .Refuses(StatusCodes.Status409Conflict, ApiKeysApi.RevokedAlready)
        .WithSummary("Revoke one of a merchant's API keys (admin): a leaked key stops working at once.");

        group.MapPost("/{id}/api_keys", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            await FindAsync(store, id, http.RequestAborted);
            // Located where the admin reads and revokes it: /v1/api_keys is a merchant key's own route, closed to the admin.
            return await ApiKeysApi.IssueAsync(store, id, await ApiKeysApi.ScopeAsync(http), time, http.RequestAborted);
        })
        .Accepts<CreateApiKeyRequest>(isOptional: true, "application/json")
        .Produces<ApiKeyResponse>(StatusCodes.Status201Created)
        .WithName("createMerchantApiKey")
        .Refuses(StatusCodes.Status409Conflict, ApiKeysApi.TooManyKeys)
        .WithMetadata(AlwaysAnswered.ShownOnce("api_key"))
        .WithSummary("Issue a merchant another API key (admin): for a merchant that lost or revoked every key it had; the key is shown once.");

        group.MapPost("/{id}/portal_links", async (string id, HttpContext http, IHeraldStore store, TimeProvider time, Hosting.PublicAddress address) =>
        {
            var request = await HeraldJson.ReadOptionalAsync(http.Request, new CreatePortalLinkRequest());
            var seconds = request.ExpiresInSeconds ?? PortalLinks.DefaultExpiresInSeconds;
            if (seconds is < PortalLinks.MinExpiresInSeconds or > PortalLinks.MaxExpiresInSeconds)
            {
                throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest,
                    $"expires_in_seconds must be between {PortalLinks.MinExpiresInSeconds} and {PortalLinks.MaxExpiresInSeconds} (a day)");
            }
            await FindAsync(store, id, http.RequestAborted);
            var token = PortalLinks.NewToken();
            var now = time.GetUtcNow();
            var expires = now.AddSeconds(seconds);
            // Forgotten a day past the longest a link lasts: nodes' clocks may differ a little.
            await store.CreatePortalLinkAsync(PortalLinks.Hash(token), id, now, expires, now - TimeSpan.FromDays(1), http.RequestAborted);
            // At Herald's public address when the operator gave one; else at the address the request
            // came in at (a trusted proxy's scheme included): the admin's own request names it.
            http.Response.Headers.Location = http.Request.PathBase + PortalLinks.Path + token;
            return Results.Json(new PortalLinkResponse(address.Of(http.Request, PortalLinks.Path + token), EndpointResponse.Time(expires)),
                HeraldJson.Api, statusCode: StatusCodes.Status201Created);
        })
        .Accepts<CreatePortalLinkRequest>(isOptional: true, "application/json")
        .Produces<PortalLinkResponse>(StatusCodes.Status201Created)
        .WithName("createMerchantPortalLink")
        .WithSummary("A one-time link that signs its holder in to the merchant's portal (admin): opening it shows a Sign in button, which works once, "
            + "until expires_in_seconds (default 300, 30 to 86400) have passed. The link is shown once.");

        group.MapDelete("/{id}/portal_sessions", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            await FindAsync(store, id, http.RequestAborted);
            await store.EndMerchantPortalSessionsAsync(id, time.GetUtcNow(), http.RequestAborted);
            return Results.NoContent();
        })
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("endMerchantPortalSessions")
        .WithSummary("End every portal session of a merchant (admin): each one signed in until now, with a key or a link, is refused from its next request on, "
            + "and the merchant's unused sign-in links no longer sign in; later sign-ins work.");

        group.MapDelete("/{id}/data", async (string id, HttpContext http, IHeraldStore store) =>
        {
            if (!await store.EraseMerchantDataAsync(id, http.RequestAborted))
            {
                throw Herald.Errors.HeraldException.NotFound("merchant", id);
            }
            return Results.NoContent();
        })
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("eraseMerchantData")
        .WithSummary("Erase a merchant's entities, events, notifications and attempts (admin); the merchant, keys and endpoints stay.");
    }

    /// <summary>
    /// The merchant, or 404. The operator's own merchant (its endpoints are the admin's, under
    /// /v1/operator) is not one the merchant routes show or change: it takes no key and no name.
    /// </summary>
    private static async Task<Merchant> FindAsync(IHeraldStore store, string id, CancellationToken cancellationToken) =>
        (id == OperatorEventTypes.OperatorMerchantId ? null : await store.GetMerchantAsync(id, cancellationToken))
            ?? throw Herald.Errors.HeraldException.NotFound("merchant", id);
}
