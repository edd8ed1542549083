using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class OperationsApi
{
    public static void MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => JsonResults.Ok(new HealthResponse("ok")))
            .WithTags("Operations").WithSummary("The process is up.");

        app.MapGet("/readyz", async (IHeraldStore store, HttpContext http) =>
            await store.PingAsync(http.RequestAborted)
                ? JsonResults.Ok(new HealthResponse("ready"))
                : Results.Json(new HealthResponse("database unreachable"), statusCode: StatusCodes.Status503ServiceUnavailable))
            .WithTags("Operations").WithSummary("The database answers.");
    }
}
