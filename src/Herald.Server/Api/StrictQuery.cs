using System.Collections.Concurrent;
using System.Reflection;
using Herald.Errors;
using Herald.Server.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

/// <summary>
/// A <c>/v1</c> request naming a query parameter its route does not take, or giving a filter empty,
/// is refused (400) before it is answered: a mistyped filter (<c>?entity=</c> for <c>?entity_id=</c>)
/// would otherwise list everything unfiltered, as if it had been read. Bodies are held to the same
/// rule. A route's parameters are those of its handler that a query can fill.
/// </summary>
internal static class StrictQuery
{
    private static readonly ConcurrentDictionary<Endpoint, (string Name, bool Whole)[]> Taken = new();
    private static readonly string[] Paging = ["starting_after", "ending_before"];

    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.QueryString.HasValue && Caller.IsApi(context.Request)
            && context.GetEndpoint() is RouteEndpoint endpoint && endpoint.Metadata.GetMetadata<MethodInfo>() is { } handler)
        {
            // The handler's parameters a query can fill, but those the path fills ({id}).
            var parameters = Taken.GetOrAdd(endpoint, _ => [.. handler.GetParameters()
                .Where(p => FromQuery(p.ParameterType) && endpoint.RoutePattern.GetParameter(p.Name!) is null)
                .Select(p => (p.Name!, (Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType) is var t && (t == typeof(int) || t == typeof(long))))]);
            var taken = parameters.Select(p => p.Name).ToArray();
            foreach (var (name, values) in context.Request.Query)
            {
                // Names in any case, as the handler's parameters are bound.
                if (!taken.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    throw new HeraldException(ErrorKind.BadRequest, taken.Length == 0
                        ? $"unknown query parameter {HeraldException.Quote(name)}: this route takes none"
                        : $"unknown query parameter {HeraldException.Quote(name)}: this route takes {string.Join(", ", taken)}");
                }
                var named = taken.First(t => string.Equals(t, name, StringComparison.OrdinalIgnoreCase));
                // Given twice (or in two cases), its values would be read joined by a comma: a filter
                // then matching nothing, or a value said wrong that the caller never wrote.
                if (values.Count > 1)
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"query parameter {named} is given {values.Count} times; give it once");
                }
                // An empty cursor is no cursor (the first page), as a client paging from the start sends
                // it; an empty filter would list everything unfiltered.
                if (values.All(string.IsNullOrEmpty) && !Paging.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"query parameter {named} is empty: give it a value, or leave it out");
                }
                // A whole number in digits alone, as the API writes one: " 1", "+1" and "01" would
                // otherwise be read as 1 by the framework's lenient parsing.
                if (parameters.First(p => p.Name == named).Whole && values[0] is { Length: > 0 } number
                    && (!Validation.IsWholeNumber(number) || number.TrimStart('-') is ['0', _, ..]))
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"{named} must be a whole number, not {HeraldException.Quote(number)}");
                }
            }
        }
        return next(context);
    }

    /// <summary>Whether a handler's parameter of this type is filled from the query (a text, number, flag or time), not a service.</summary>
    private static bool FromQuery(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal)
            || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Guid);
    }
}
