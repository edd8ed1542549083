using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Receiver.Events;

/// <summary>
/// Reads the entities' documents into the kit's typed models, generated at build time. Each field
/// is named as its seed names it; a value of another type than the seed's is a <see cref="JsonException"/>
/// naming its path, never a value made up.
/// </summary>
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

/// <summary>Seed 000's times, <c>2021-11-29 17:10:37</c>: no zone, and Herald writes them in UTC.</summary>
internal sealed class PointTimeConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd HH:mm:ss";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
        && DateTimeOffset.TryParseExact(reader.GetString(), Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            // No message of its own: the serializer's then names the field's path.
            : throw new JsonException();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}
