using Microsoft.OpenApi;

namespace Herald.Server.Api;

/// <summary>
/// Route metadata: the route's answer of <see cref="Status"/> always holds <see cref="Field"/>, never
/// null, where other answers of the same resource leave it out (a create's key or signing secret,
/// shown this once; a notification's payload and attempts, which its list leaves out). The OpenAPI
/// document makes it required there, so a generated client need not check for it.
/// </summary>
/// <param name="Items">For a list, the component schema of its items, by name.</param>
public sealed record AlwaysAnswered(string Status, string Field, JsonSchemaType Type, string? Items = null)
{
    /// <summary>A create answers <paramref name="field"/>, a string (a key, a signing secret), this once and always.</summary>
    public static AlwaysAnswered ShownOnce(string field) => new("201", field, JsonSchemaType.String);
}
