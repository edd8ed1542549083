using Herald.Server.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

internal static class JsonResults
{
    public static IResult Ok<T>(T value) => Results.Json(value, HeraldJson.Api);

    public static IResult Created<T>(string location, T value) => Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status201Created);

    public static IResult Accepted<T>(T value) => Results.Json(value, HeraldJson.Api, statusCode: StatusCodes.Status202Accepted);
}
