using Herald.Delivery;
using Herald.Endpoints;
using Herald.Errors;
using Herald.Ids;
using Herald.Retry;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Api;

/// <summary>
/// The operator's webhooks (admin): Herald's own events — <c>endpoint.disabled</c>,
/// <c>endpoint.failing</c>, <c>endpoint.recovered</c>, <c>notification.dead</c> — delivered, signed and retried like any notification.
/// </summary>
internal static class OperatorApi
{
    public static void MapOperator(this IEndpointRouteBuilder app)
    {
        // Every operator route is the admin's: checked before a route's own filters (a body it refuses, say).
        var group = app.MapGroup("/v1/operator/endpoints").WithTags("Operator").AdminOnly();

        group.MapPost("", async (HttpContext http, IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) =>
        {
            var request = await HeraldJson.ReadAsync<CreateOperatorEndpointRequest>(http.Request);
            var now = time.GetUtcNow();
            var endpoint = new Endpoint
            {
                Id = HeraldId.New(HeraldId.Endpoint, time),
                MerchantId = OperatorEventTypes.OperatorMerchantId,
                Url = Validation.EndpointUrl(request.Url, delivery.Value),
                Description = Validation.OptionalText(request.Description, "description"),
                Format = PayloadFormat.Operator,
                Success = SuccessRule.Any2xx,
                Retry = RetryPolicy.Exponential,
                TimeoutSeconds = EndpointsApi.DefaultTimeoutSeconds,
                Headers = Validation.EndpointHeaders(request.Headers),
                Source = EndpointSources.Operator,
                CreatedAt = now,
                UpdatedAt = now,
                Secrets = [WebhookSignature.NewSecret()],
            };
            await store.CreateEndpointAsync(endpoint, http.RequestAborted);
            return JsonResults.Created(endpoint.Id, EndpointResponse.From(endpoint, withSecret: true));
        })
        .Accepts<CreateOperatorEndpointRequest>("application/json")
        .Produces<EndpointResponse>(StatusCodes.Status201Created)
        .WithName("createOperatorEndpoint")
        .WithMetadata(AlwaysAnswered.ShownOnce("secret"))
        .WithSummary("Add an operator webhook (admin): it receives endpoint.disabled, endpoint.failing, endpoint.recovered and notification.dead; its secret is shown once.");

        group.MapGet("", async (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            return JsonResults.Ok(await EndpointsApi.PageAsync(store, OperatorEventTypes.OperatorMerchantId, limit, starting_after, ending_before, http.RequestAborted));
        })
        .Produces<ListResponse<EndpointResponse>>()
        .WithName("listOperatorEndpoints")
        .WithSummary("The operator webhooks (admin), newest first, a page at a time as the merchants' endpoints.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
            JsonResults.Ok(EndpointResponse.From(await EndpointsApi.LoadAsync(store, OperatorEventTypes.OperatorMerchantId, id, http.RequestAborted))))
        .Produces<EndpointResponse>()
        .WithName("getOperatorEndpoint")
        .WithSummary("One operator webhook (admin).");

        // Moved or re-credentialed in place, its secret rotated as a merchant's is: without, a changed
        // URL or a leaked secret meant deleting it and making another, the events waiting for it lost.
        group.MapPatch("/{id}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) =>
        {
            var request = await HeraldJson.ReadAsync<UpdateOperatorEndpointRequest>(http.Request);
            var updated = await EndpointOperations.UpdateAsync(store, OperatorEventTypes.OperatorMerchantId, id,
                new UpdateEndpointRequest(Url: request.Url, Description: request.Description, Headers: request.Headers), time, delivery.Value, http.RequestAborted);
            return JsonResults.Ok(EndpointResponse.From(updated));
        })
        .Accepts<UpdateOperatorEndpointRequest>("application/json")
        .Produces<EndpointResponse>()
        .WithName("updateOperatorEndpoint")
        .Refuses(StatusCodes.Status409Conflict, EndpointsApi.ChangedMeanwhile)
        .WithSummary("Change an operator webhook's url, description or headers (admin); a field left out, or null, stays as it is.");

        group.MapDelete("/{id}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            if (!await store.DeleteEndpointAsync(OperatorEventTypes.OperatorMerchantId, id, time.GetUtcNow(), http.RequestAborted))
            {
                throw HeraldException.NotFound("endpoint", id);
            }
            return Results.NoContent();
        })
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("deleteOperatorEndpoint")
        .WithSummary("Remove an operator webhook (admin).");

        // An operator webhook disabled (a 410, days of failures) is enabled again as a merchant's is,
        // its waiting events then delivered, and tested likewise: without, it could only be deleted
        // and made again, its waiting events lost.
        EndpointsApi.MapRotation(group, OperatorOwner, "OperatorEndpoint");
        EndpointsApi.MapPause(group, OperatorOwner, "OperatorEndpoint");
        EndpointsApi.MapTest(group, OperatorOwner, "OperatorEndpoint", examples: false);
    }

    /// <summary>The operator's webhooks belong to its reserved merchant (the group lets only the admin in).</summary>
    private static string OperatorOwner(HttpContext http) => OperatorEventTypes.OperatorMerchantId;
}
