using Microsoft.AspNetCore.Builder;

namespace Herald.Server.Api;

/// <summary>
/// Route metadata: a refusal a route's handler answers beyond those its shape brings (a body, a
/// query, an id in its path, a key): a conflict, a queue or a limit of its own. The OpenAPI
/// document lists it with the others (<c>ErrorResponses</c>).
/// </summary>
public sealed record Refusal(int Status, string When);

/// <summary>Route metadata: which keys a route serves, where not a merchant's key alone (as <see cref="Auth.Caller.Merchant"/> requires).</summary>
public sealed record KeysServed(bool Admin, bool Merchant)
{
    /// <summary>The admin's routes (<see cref="RouteFilters.AdminOnly"/>).</summary>
    public static readonly KeysServed AdminOnly = new(Admin: true, Merchant: false);

    /// <summary>Routes any key reads, the admin's or a merchant's.</summary>
    public static readonly KeysServed Any = new(Admin: true, Merchant: true);
}

/// <summary>Route metadata: the route takes no body, and refuses one (<see cref="RouteFilters.TakesNoBody"/>).</summary>
public sealed class RefusesBody
{
    public static readonly RefusesBody Instance = new();

    private RefusesBody()
    {
    }
}

internal static class RouteRefusals
{
    /// <summary>The route answers <paramref name="status"/> <paramref name="when"/>, for the OpenAPI document to say.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder route, int status, string when)
        where TBuilder : IEndpointConventionBuilder => route.WithMetadata(new Refusal(status, when));
}
