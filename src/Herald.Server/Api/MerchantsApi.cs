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
            return JsonResults.Created($"/v1/merchants/{merchant.Id}", new MerchantResponse(merchant.Id, merchant.Name, EndpointResponse.Time(now), key));
        })
        .Accepts<CreateMerchantRequest>("application/json")
        .Produces<MerchantResponse>(StatusCodes.Status201Created)
        .WithTags("Merchants").WithSummary("Create a merchant (admin); its API key is shown once.");

        app.MapPost("/v1/merchants/{id}/api_keys", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            Caller.RequireAdmin(http);
            // The operator's own merchant (its endpoints are the admin's, under /v1/operator) takes no merchant key.
            if (id == OperatorEventTypes.OperatorMerchantId || await store.GetMerchantAsync(id, http.RequestAborted) is null)
            {
                throw Herald.Errors.HeraldException.NotFound($"merchant {id}");
            }
            return await ApiKeysApi.IssueAsync(store, id, time, http.RequestAborted);
        })
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
        .Produces(StatusCodes.Status204NoContent)
        .WithTags("Merchants").WithSummary("Erase a merchant's entities, events, notifications and attempts (admin); the merchant, keys and endpoints stay.");
    }
}
