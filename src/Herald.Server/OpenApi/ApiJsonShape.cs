using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Server.Api;
using Herald.Server.Json;

namespace Herald.Server.OpenApi;

/// <summary>
/// The shape the OpenAPI document gives request and response bodies, set on the HTTP JSON options
/// the document is generated from: the names and number handling of <see cref="HeraldJson"/>, which
/// reads every body and writes every answer of Herald's own types.
/// </summary>
/// <remarks>
/// The API never binds or writes a body with these options: what still goes through them are
/// answers written as they are stored (an entity's document, a JSON tree whose keys no naming
/// policy touches) and the health status (one word, the same in either case). Reading numbers
/// strictly changes nothing there either, so the answers stay byte for byte what they were.
/// </remarks>
internal static class ApiJsonShape
{
    /// <summary>The types read and written with <see cref="HeraldJson.Seed"/>: a transaction and what it holds.</summary>
    private static readonly FrozenSet<Type> SeedTypes = Reachable(HeraldJson.Seed.GetTypeInfo(typeof(TransactionDocument)));

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = HeraldJson.Api.PropertyNamingPolicy;
        // A number given as a string is refused; the web defaults would document ["integer", "string"].
        options.NumberHandling = HeraldJson.Api.NumberHandling;
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(NameAsSeed);
    }

    /// <summary>A seed type's fields named as <see cref="HeraldJson.Seed"/> names them (camelCase), not snake_case.</summary>
    private static void NameAsSeed(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !SeedTypes.Contains(info.Type))
        {
            return;
        }
        var seedNames = HeraldJson.Seed.GetTypeInfo(info.Type).Properties
            .Where(p => p.AttributeProvider is MemberInfo)
            .ToDictionary(p => ((MemberInfo)p.AttributeProvider!).Name, p => p.Name, StringComparer.Ordinal);
        foreach (var property in info.Properties)
        {
            if (property.AttributeProvider is MemberInfo member && seedNames.TryGetValue(member.Name, out var name))
            {
                property.Name = name;
            }
        }
    }

    private static FrozenSet<Type> Reachable(JsonTypeInfo root)
    {
        var found = new HashSet<Type>();
        var pending = new Stack<JsonTypeInfo>([root]);
        while (pending.TryPop(out var info))
        {
            if (info.Kind == JsonTypeInfoKind.Object && found.Add(info.Type))
            {
                foreach (var property in info.Properties)
                {
                    pending.Push(HeraldJson.Seed.GetTypeInfo(property.PropertyType));
                }
            }
            else if (info.Kind == JsonTypeInfoKind.Enumerable && info.ElementType is { } element)
            {
                pending.Push(HeraldJson.Seed.GetTypeInfo(element));
            }
        }
        return found.ToFrozenSet();
    }
}
