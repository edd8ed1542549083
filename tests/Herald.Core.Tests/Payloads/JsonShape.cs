using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Core.Tests.Payloads;

/// <summary>
/// Compares the shape of two JSON documents: the same keys in the same order and nesting, and the
/// same value kinds, recursively. Values themselves may differ.
/// </summary>
internal static class JsonShape
{
    /// <summary>The JSON path and reason of the first difference, or <c>null</c> when the shapes match.</summary>
    public static string? FirstDifference(JsonNode? expected, JsonNode? actual) => Compare(expected, actual, "$");

    public static void AssertSameShape(JsonNode? expected, JsonNode? actual)
    {
        var difference = FirstDifference(expected, actual);
        Assert.True(difference is null, $"shape differs at {difference}\nexpected: {expected?.ToJsonString()}\nactual:   {actual?.ToJsonString()}");
    }

    private static string? Compare(JsonNode? expected, JsonNode? actual, string path)
    {
        var expectedKind = expected?.GetValueKind() ?? JsonValueKind.Null;
        var actualKind = actual?.GetValueKind() ?? JsonValueKind.Null;
        if (expectedKind != actualKind && !(IsBoolean(expectedKind) && IsBoolean(actualKind)))
        {
            return $"{path}: expected {expectedKind}, got {actualKind}";
        }
        return (expected, actual) switch
        {
            (JsonObject e, JsonObject a) => CompareObjects(e, a, path),
            (JsonArray e, JsonArray a) => CompareArrays(e, a, path),
            _ => null,
        };
    }

    private static string? CompareObjects(JsonObject expected, JsonObject actual, string path)
    {
        var expectedKeys = expected.Select(p => p.Key).ToList();
        var actualKeys = actual.Select(p => p.Key).ToList();
        if (expectedKeys.Find(k => !actual.ContainsKey(k)) is { } missing)
        {
            return $"{path}.{missing}: missing";
        }
        if (actualKeys.Find(k => !expected.ContainsKey(k)) is { } unexpected)
        {
            return $"{path}.{unexpected}: unexpected";
        }
        for (var i = 0; i < expectedKeys.Count; i++)
        {
            if (expectedKeys[i] != actualKeys[i])
            {
                return $"{path}: key {i} is '{actualKeys[i]}', expected '{expectedKeys[i]}' (order {string.Join(", ", expectedKeys)})";
            }
        }
        foreach (var key in expectedKeys)
        {
            if (Compare(expected[key], actual[key], $"{path}.{key}") is { } difference)
            {
                return difference;
            }
        }
        return null;
    }

    private static string? CompareArrays(JsonArray expected, JsonArray actual, string path)
    {
        if (expected.Count != actual.Count)
        {
            return $"{path}: expected {expected.Count} elements, got {actual.Count}";
        }
        for (var i = 0; i < expected.Count; i++)
        {
            if (Compare(expected[i], actual[i], $"{path}[{i}]") is { } difference)
            {
                return difference;
            }
        }
        return null;
    }

    private static bool IsBoolean(JsonValueKind kind) => kind is JsonValueKind.True or JsonValueKind.False;
}
