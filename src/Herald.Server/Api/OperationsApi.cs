using Herald.Delivery;
using Herald.Delivery.Workers;
using Herald.Storage.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class OperationsApi
{
    public static void MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => JsonResults.Ok(new HealthResponse("ok")))
            .Produces<HealthResponse>()
            .WithMetadata(Hosting.MetricsAccess.ServedOnMetricsListener.Anyone)
            .WithName("getHealth")
            .WithTags("Operations").WithSummary("The process is up.");

        app.MapGet("/readyz", async (ReadinessProbe probe, DeliverySignal workers, IOptions<DeliveryOptions> delivery, HttpContext http) =>
        {
            if (await probe.DatabaseTroubleAsync(http.RequestAborted) is { } trouble)
            {
                return Results.Json(new HealthResponse($"database {trouble}"), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            if (delivery.Value.WorkersEnabled && !workers.WorkersRunning)
            {
                return Results.Json(new HealthResponse("delivery workers not running"), statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            return JsonResults.Ok(new HealthResponse("ready"));
        })
            .WithMetadata(Hosting.MetricsAccess.ServedOnMetricsListener.Anyone)
        .Produces<HealthResponse>()
        .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
        .WithName("getReadiness")
        .WithTags("Operations").WithSummary("The database answers (within 2 s) and the delivery workers run.");
    }
}
