using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Server.Tests.Payloads;

/// <summary>Compares two documents by shape: the same keys in the same order and nesting, the same value kinds.</summary>
public static class JsonShape
{
    public static void AssertSameShape(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        var expectedKind = expected?.GetValueKind() ?? JsonValueKind.Null;
        var actualKind = actual?.GetValueKind() ?? JsonValueKind.Null;
        Assert.True(Same(expectedKind, actualKind), $"{path}: expected a {expectedKind}, got a {actualKind}");
        switch (expected)
        {
            case JsonObject e:
                var a = actual!.AsObject();
                Assert.True(e.Select(p => p.Key).SequenceEqual(a.Select(p => p.Key)),
                    $"{path}: expected keys [{string.Join(", ", e.Select(p => p.Key))}], got [{string.Join(", ", a.Select(p => p.Key))}]");
                foreach (var (key, value) in e)
                {
                    AssertSameShape(value, a[key], $"{path}.{key}");
                }
                break;
            case JsonArray e:
                var arr = actual!.AsArray();
                Assert.Equal(e.Count, arr.Count);
                for (var i = 0; i < e.Count; i++)
                {
                    AssertSameShape(e[i], arr[i], $"{path}[{i}]");
                }
                break;
        }
    }

    private static bool Same(JsonValueKind a, JsonValueKind b) =>
        a == b || (a is JsonValueKind.True or JsonValueKind.False && b is JsonValueKind.True or JsonValueKind.False);
}
