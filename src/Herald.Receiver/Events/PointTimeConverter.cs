using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Receiver.Events;

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
