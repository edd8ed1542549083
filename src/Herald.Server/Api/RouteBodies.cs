using Herald.Server.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

internal static class RouteBodies
{
    /// <summary>
    /// The route takes no body: a request sending one other than <c>{}</c> is refused (400, 413 or
    /// 415, as any body would be) before the route changes anything.
    /// </summary>
    public static RouteHandlerBuilder TakesNoBody(this RouteHandlerBuilder route) =>
        route.AddEndpointFilter(async (context, next) =>
        {
            await HeraldJson.RefuseBodyAsync(context.HttpContext.Request);
            return await next(context);
        });
}
