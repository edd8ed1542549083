using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Receiver.Events;

/// <summary>
/// Reads the entities' documents into the kit's typed models, generated at build time. Each field
/// is named as its seed names it; a value of another type than the seed's is a <see cref="JsonException"/>
/// naming its path, never a value made up; so is a null where the model's field may not be null.
/// </summary>
[JsonSourceGenerationOptions(RespectNullableAnnotations = true)]
[JsonSerializable(typeof(Transaction))]
[JsonSerializable(typeof(PaymentIntent))]
[JsonSerializable(typeof(PaymentOrder))]
internal sealed partial class EventJson : JsonSerializerContext
{
    public static T Read<T>(JsonObject document, JsonTypeInfo<T> type)
    {
        ArgumentNullException.ThrowIfNull(document);
        return document.Deserialize(type) ?? throw new JsonException("the document is null");
    }
}
