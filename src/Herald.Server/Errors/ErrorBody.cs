using System.Text.Json.Serialization;

namespace Herald.Server.Errors;

/// <summary>Every error Herald answers, in the shape seed 003 shows: <c>{statusCode, message[], error}</c>.</summary>
public sealed record ErrorBody(
    [property: JsonPropertyName("statusCode")] int StatusCode,
    [property: JsonPropertyName("message")] IReadOnlyList<string> Message,
    [property: JsonPropertyName("error")] string Error)
{
    public static string ReasonFor(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => status >= 500 ? "Internal Server Error" : "Error",
    };
}
