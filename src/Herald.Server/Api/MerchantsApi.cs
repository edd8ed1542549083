using Herald.Ids;
using Herald.Server.Auth;
using Herald.Server.Json;
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
        app.MapPost("/v1/merchants", async (HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            Caller.RequireAdmin(http);
            var request = await HeraldJson.ReadAsync<CreateMerchantRequest>(http.Request);
            var name = Validation.RequiredText(request.Name, "name", 200);
            var now = time.GetUtcNow();
            var merchant = new Merchant(HeraldId.New(HeraldId.Merchant, time), name, now);
            var key = ApiKeys.NewKey();
            await store.CreateMerchantAsync(merchant, new ApiKey(HeraldId.New(HeraldId.ApiKey, time), merchant.Id, ApiKeys.Hash(key), now), http.RequestAborted);
            return JsonResults.Created($"/v1/merchants/{merchant.Id}", MerchantResponse.From(merchant) with { ApiKey = key });
        })
        .Accepts<CreateMerchantRequest>("application/json")
        .Produces<MerchantResponse>(StatusCodes.Status201Created)
        .WithTags("Merchants").WithSummary("Create a merchant (admin); its API key is shown once.");

        app.MapGet("/v1/merchants", async (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            Caller.RequireAdmin(http);
            var take = Validation.Limit(limit);
            Validation.OneCursor(starting_after, ending_before, HeraldId.Merchant, "a merchant");
            var page = await store.ListMerchantsAsync(take, starting_after, ending_before, http.RequestAborted);
            return JsonResults.Ok(new ListResponse<MerchantResponse>(page.Data.Select(MerchantResponse.From).ToList(), page.HasMore));
        })
        .Produces<ListResponse<MerchantResponse>>()
        .WithTags("Merchants").WithSummary("The merchants, newest first (admin); starting_after (the last id) for the older page, ending_before (the first id) for the newer one.");

        app.MapGet("/v1/merchants/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            Caller.RequireAdmin(http);
            return JsonResults.Ok(MerchantResponse.From(await FindAsync(store, id, http.RequestAborted)));
        })
        .Produces<MerchantResponse>()
        .WithTags("Merchants").WithSummary("One merchant (admin).");

        app.MapPatch("/v1/merchants/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            Caller.RequireAdmin(http);
            var request = await HeraldJson.ReadAsync<CreateMerchantRequest>(http.Request);
            var name = Validation.RequiredText(request.Name, "name", 200);
            var merchant = await FindAsync(store, id, http.RequestAborted);
            if (!await store.RenameMerchantAsync(id, name, http.RequestAborted))
            {
                throw Herald.Errors.HeraldException.NotFound($"merchant {id}");
            }
            return JsonResults.Ok(MerchantResponse.From(merchant with { Name = name }));
        })
        .Accepts<CreateMerchantRequest>("application/json")
        .Produces<MerchantResponse>()
        .WithTags("Merchants").WithSummary("Rename a merchant (admin).");

        app.MapGet("/v1/merchants/{id}/api_keys", async (string id, HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            Caller.RequireAdmin(http);
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.ListAsync(store, id, limit, starting_after, ending_before, http.RequestAborted);
        })
        .Produces<ListResponse<ApiKeyResponse>>()
        .WithTags("Merchants").WithSummary("A merchant's API keys (admin; never the keys themselves).");

        app.MapDelete("/v1/merchants/{id}/api_keys/{keyId}", async (string id, string keyId, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            Caller.RequireAdmin(http);
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.RevokeAsync(store, id, keyId, time, http.RequestAborted);
        })
        .AdminOnly().TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithTags("Merchants").WithSummary("Revoke one of a merchant's API keys (admin): a leaked key stops working at once.");

        app.MapPost("/v1/merchants/{id}/api_keys", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            Caller.RequireAdmin(http);
            await FindAsync(store, id, http.RequestAborted);
            return await ApiKeysApi.IssueAsync(store, id, time, http.RequestAborted);
        })
        .AdminOnly().TakesNoBody()
        .Produces<ApiKeyResponse>(StatusCodes.Status201Created)
        .WithTags("Merchants").WithSummary("Issue a merchant another API key (admin): for a merchant that lost or revoked every key it had; the key is shown once.");

        app.MapDelete("/v1/merchants/{id}/data", async (string id, HttpContext http, IHeraldStore store) =>
        {
            Caller.RequireAdmin(http);
            if (!await store.EraseMerchantDataAsync(id, http.RequestAborted))
            {
                throw Herald.Errors.HeraldException.NotFound($"merchant {id}");
            }
            return Results.NoContent();
        })
        .AdminOnly().TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithTags("Merchants").WithSummary("Erase a merchant's entities, events, notifications and attempts (admin); the merchant, keys and endpoints stay.");
    }

    /// <summary>
    /// The merchant, or 404. The operator's own merchant (its endpoints are the admin's, under
    /// /v1/operator) is not one the merchant routes show or change: it takes no key and no name.
    /// </summary>
    private static async Task<Merchant> FindAsync(IHeraldStore store, string id, CancellationToken cancellationToken) =>
        (id == OperatorEventTypes.OperatorMerchantId ? null : await store.GetMerchantAsync(id, cancellationToken))
            ?? throw Herald.Errors.HeraldException.NotFound($"merchant {id}");
}
