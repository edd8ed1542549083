using Herald.Server.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// The times Herald answers of its own (<c>created_at</c>, <c>next_attempt_at</c>, a stats window's
/// <c>since</c>, <c>until</c> and <c>hour</c>, ...) are RFC 3339 date-times in UTC, written by
/// <c>EntityDocuments.FormatApiTime</c>: <c>format: date-time</c>, so a generated client reads them
/// as times rather than as text.
/// </summary>
/// <remarks>
/// The records hold them as strings, already written, which the document would give as plain text.
/// A Point intent's <c>created_at</c> is seed 000's own form (<c>yyyy-MM-dd HH:mm:ss</c>), not
/// RFC 3339, and what a request takes (a recover's <c>since</c>) is ISO 8601 in its extended form, a bare date
/// too: neither is one.
/// </remarks>
internal sealed class ApiTimes : IOpenApiSchemaTransformer
{
    /// <summary>The times whose names do not end in <c>_at</c>: a stats window and its hours, when an endpoint began failing.</summary>
    private static readonly HashSet<(Type, string)> Named =
    [
        (typeof(StatsResponse), "since"),
        (typeof(StatsResponse), "until"),
        (typeof(HourlyAttemptsResponse), "hour"),
        (typeof(EndpointResponse), "failing_since"),
    ];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is { DeclaringType: var declaring, Name: var name, PropertyType: var type }
            && type == typeof(string) && IsTime(declaring, name))
        {
            schema.Format = "date-time";
        }
        return Task.CompletedTask;
    }

    internal static bool IsTime(Type declaring, string name) =>
        Named.Contains((declaring, name))
        || (name.EndsWith("_at", StringComparison.Ordinal) && declaring.Name.EndsWith("Response", StringComparison.Ordinal)
            && declaring.Namespace == typeof(EndpointResponse).Namespace && declaring != typeof(PaymentIntentResponse));
}
