using Herald.Server.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

internal static class JsonResults
{
    public static IResult Ok<T>(T value) => Results.Json(value, HeraldJson.Api);

    /// <summary>201 with the created resource, and in Location its path: the collection it was posted to, then its <paramref name="id"/>.</summary>
    public static IResult Created<T>(string id, T value) =>
        Located(id, Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status201Created));

    /// <summary>
    /// The answer <paramref name="created"/> with Location naming the resource it made: every create
    /// is a POST to its collection, whose path (the proxy's base path included) is the resource's
    /// but for its id.
    /// </summary>
    public static IResult Located(string id, IResult created) => new LocatedResult(id, created);

    public static IResult Accepted<T>(T value) => Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status202Accepted);

    private sealed class LocatedResult(string id, IResult created) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            // A path, not an absolute URL: behind a proxy the client resolves it against the address it called.
            var collection = (httpContext.Request.PathBase + httpContext.Request.Path).Value!.TrimEnd('/');
            httpContext.Response.Headers.Location = $"{collection}/{Uri.EscapeDataString(id)}";
            return created.ExecuteAsync(httpContext);
        }
    }
}
