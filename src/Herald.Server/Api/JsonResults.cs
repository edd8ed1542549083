using Herald.Server.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

internal static class JsonResults
{
    public static IResult Ok<T>(T value) => Results.Json(value, HeraldJson.Api);

    /// <summary>201 with the created resource, and its path (<paramref name="location"/>) in Location.</summary>
    public static IResult Created<T>(string location, T value) =>
        Located(location, Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status201Created));

    /// <summary>The answer <paramref name="created"/> with Location naming the path of the resource it made.</summary>
    public static IResult Located(string location, IResult created) => new LocatedResult(location, created);

    public static IResult Accepted<T>(T value) => Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status202Accepted);

    private sealed class LocatedResult(string location, IResult created) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            // A path, not an absolute URL: behind a proxy the client resolves it against the address it called.
            httpContext.Response.Headers.Location = location;
            return created.ExecuteAsync(httpContext);
        }
    }
}
