using Herald.Server.Auth;
using Herald.Server.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

internal static class RouteFilters
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
        }).WithMetadata(RefusesBody.Instance);

    /// <summary>
    /// The routes are the admin's: a merchant key is refused (403) before anything else is looked
    /// at, its body included. Filters run in the order they are added: add this one first.
    /// </summary>
    public static TBuilder AdminOnly<TBuilder>(this TBuilder routes)
        where TBuilder : IEndpointConventionBuilder =>
        routes.AddEndpointFilter((context, next) =>
        {
            Caller.RequireAdmin(context.HttpContext);
            return next(context);
        }).WithMetadata(KeysServed.AdminOnly);
}
