using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Server.Json;

/// <summary>
/// What a body's field takes, in the client's words (<c>a whole number</c>, <c>a list</c>), found
/// by following the serializer's path of a value it could not convert through the type being
/// read: the serializer's own message names the object the field belongs to, not the field's type.
/// </summary>
internal static class ExpectedValue
{
    /// <summary>What the value at <paramref name="path"/> (<c>$.data.items[0].name</c>) of a <paramref name="type"/> must be; null when that cannot be told.</summary>
    public static string? At(Type type, JsonSerializerOptions options, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '$')
        {
            return null;
        }
        try
        {
            if (Steps(path) is not { } steps)
            {
                return null;
            }
            var info = options.GetTypeInfo(type);
            foreach (var step in steps)
            {
                var next = step is null
                    ? (info.Kind is JsonTypeInfoKind.Enumerable ? info.ElementType : null)
                    : info.Kind switch
                    {
                        JsonTypeInfoKind.Object => info.Properties.FirstOrDefault(p => p.Name == step)?.PropertyType,
                        JsonTypeInfoKind.Dictionary => info.ElementType,
                        _ => null,
                    };
                if (next is null)
                {
                    return null;
                }
                info = options.GetTypeInfo(next);
            }
            return Words(info);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    // The path's steps: a member's name, or null for a list's item; null when the path cannot be
    // read to its end (a quoted name holding "']", which the serializer writes as it is).
    private static List<string?>? Steps(string path)
    {
        var steps = new List<string?>();
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                steps.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    return null;
                }
                steps.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i + 1);
                if (end < 0 || end == i + 1 || path.AsSpan(i + 1, end - i - 1).ContainsAnyExceptInRange('0', '9'))
                {
                    return null;
                }
                steps.Add(null);
                i = end + 1;
            }
            else
            {
                return null;
            }
        }
        return steps;
    }

    private static string? Words(JsonTypeInfo info)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return Type.GetTypeCode(type) switch
        {
            _ when type.IsEnum => null,
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => "a whole number",
            TypeCode.Decimal or TypeCode.Double or TypeCode.Single => "a number",
            TypeCode.String => "a string",
            TypeCode.Boolean => "true or false",
            _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => "a date and time (ISO 8601, such as 2026-01-01T00:00:00Z)",
            _ when type == typeof(JsonObject) => "an object",
            _ when type == typeof(JsonArray) => "a list",
            _ when type == typeof(JsonNode) || type == typeof(JsonElement) => null,
            _ => info.Kind switch
            {
                JsonTypeInfoKind.Enumerable => "a list",
                JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Object => "an object",
                _ => null,
            },
        };
    }
}
