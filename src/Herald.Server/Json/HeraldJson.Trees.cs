using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Herald.Server.Json;

// Strict reading: texts, and free-form trees walked for keys given twice and texts that are not Unicode.
public static partial class HeraldJson
{
    /// <summary>
    /// A text field as it is, unless it holds the NUL character: PostgreSQL's text refuses it, so
    /// the same request would be stored on SQLite and fail on PostgreSQL. Refused on both alike.
    /// </summary>
    private sealed class TextConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            return text is not null && text.Contains('\0', StringComparison.Ordinal) ? throw new RefusedValue(NulRefused) : text;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    /// <summary>
    /// A free-form part of a body (a transaction, an intent, a preference's items) read as a JSON
    /// tree with every object's keys and every text checked first. The serializer's own tree reader
    /// answers a key given twice with the dictionary's error (no field, no path), which would have
    /// been a 500.
    /// </summary>
    private sealed class TreeConverter<T> : JsonConverter<T>
        where T : JsonNode
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var element = JsonElement.ParseValue(ref reader);
            Check(element, []);
            var nodeOptions = new JsonNodeOptions { PropertyNameCaseInsensitive = options.PropertyNameCaseInsensitive };
            JsonNode? node = element.ValueKind switch
            {
                JsonValueKind.Object => JsonObject.Create(element, nodeOptions),
                JsonValueKind.Array => JsonArray.Create(element, nodeOptions),
                JsonValueKind.Null => null,
                _ => JsonValue.Create(element, nodeOptions),
            };
            // Anything else than the tree asked for is the serializer's "could not be converted".
            return node as T ?? (node is null ? null : throw new JsonException());
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => value.WriteTo(writer, options);

        /// <summary>Refuses a key given twice and a text that is not Unicode; <paramref name="where"/> is the way there from the tree's start (a name or an index a step), made into a path only for the error.</summary>
        private static void Check(JsonElement element, List<object> where)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    HashSet<string>? seen = null;
                    foreach (var property in element.EnumerateObject())
                    {
                        string name;
                        try
                        {
                            name = property.Name;
                        }
                        catch (InvalidOperationException)
                        {
                            throw new TreeException(NotUtf8, Path(where));
                        }
                        where.Add(name);
                        if (!(seen ??= new HashSet<string>(StringComparer.Ordinal)).Add(name))
                        {
                            throw new TreeException("duplicate field", Path(where));
                        }
                        Check(property.Value, where);
                        where.RemoveAt(where.Count - 1);
                    }
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        where.Add(index++);
                        Check(item, where);
                        where.RemoveAt(where.Count - 1);
                    }
                    break;
                case JsonValueKind.String:
                    var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
                    // Checked where it lies; a text with escapes is also read (a lone surrogate's escape fails then).
                    if (!System.Text.Unicode.Utf8.IsValid(raw))
                    {
                        throw new TreeException(NotUtf8, Path(where));
                    }
                    if (raw.Contains((byte)'\\') && !Reads(element))
                    {
                        throw new TreeException(NotUnicode, Path(where));
                    }
                    break;
            }
        }

        private static bool Reads(JsonElement element)
        {
            try
            {
                _ = element.GetString();
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        /// <summary>The way from the tree's start as the serializer writes a path: .name, ['name'] for a name with characters a path treats apart, [index].</summary>
        private static string Path(List<object> where)
        {
            var path = new System.Text.StringBuilder();
            foreach (var step in where)
            {
                if (step is int index)
                {
                    path.Append('[').Append(index.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(']');
                }
                else if (((string)step).AsSpan().ContainsAny(PathSpecial))
                {
                    path.Append("['").Append(((string)step).Replace("'", "\\'", StringComparison.Ordinal)).Append("']");
                }
                else
                {
                    path.Append('.').Append((string)step);
                }
            }
            return path.ToString();
        }
    }

    /// <summary>The characters for which a JSON path writes a name in brackets, as System.Text.Json's own paths do.</summary>
    private static readonly System.Buffers.SearchValues<char> PathSpecial = System.Buffers.SearchValues.Create("$ .'/\"[]()\t\n\r\f\b\\\u0085\u2028\u2029");

    /// <summary>What is wrong inside a JSON tree; <see cref="JsonException.Path"/> is where the tree begins, <see cref="Within"/> the rest of the way.</summary>
    private sealed class TreeException(string what, string within) : JsonException
    {
        public string What { get; } = what;

        public string Within { get; } = within;
    }
}
