using System.Text.Json.Nodes;

namespace Herald.Core.Tests.Payloads;

public class JsonShapeTests
{
    [Theory]
    [InlineData("""{"a":1,"b":{"c":"x"}}""", """{"a":2,"b":{"c":"y"}}""", null)]
    [InlineData("""{"a":1,"b":{"c":"x"}}""", """{"a":1,"b":{"c":3}}""", "$.b.c: expected String, got Number")]
    [InlineData("""{"a":1,"b":{"c":"x"}}""", """{"a":1,"b":{}}""", "$.b.c: missing")]
    [InlineData("""{"a":1}""", """{"a":1,"z":true}""", "$.z: unexpected")]
    [InlineData("""{"a":[{"b":1}]}""", """{"a":[{"b":null}]}""", "$.a[0].b: expected Number, got Null")]
    [InlineData("""{"a":1,"b":2}""", """{"b":2,"a":1}""", "$: key 0 is 'b', expected 'a' (order a, b)")]
    public void FirstDifference_ReportsPathOfFirstMismatch(string expected, string actual, string? difference)
    {
        Assert.Equal(difference, JsonShape.FirstDifference(JsonNode.Parse(expected), JsonNode.Parse(actual)));
    }

    [Fact]
    public void SeedLoader_NormalisesLeadingZeroOfCallerId()
    {
        var seed = SeedPayloads.Point("FINISHED", "mla");

        Assert.Equal(9876543, seed["caller_id"]!.GetValue<int>());
        Assert.Equal("2021-11-29 17:10:37", seed["created_at"]!.GetValue<string>());
    }
}
