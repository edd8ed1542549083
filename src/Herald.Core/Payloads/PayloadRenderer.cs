using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;

namespace Herald.Payloads;

/// <summary>
/// Renders an event into the body one format sends. The bytes are rendered once, when the change
/// is recorded, and sent unchanged on every attempt and resend.
/// </summary>
public static class PayloadRenderer
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        // Receivers get names and addresses as written, not as \u escapes.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] Render(PayloadFormat format, EntityEvent evt)
    {
        var bytes = Written(format, evt).ToArray();
        LetGoOfLargeBuffer();
        return bytes;
    }

    /// <summary>The body as text, as it is stored; the same bytes <see cref="Render"/> gives, decoded.</summary>
    public static string RenderText(PayloadFormat format, EntityEvent evt)
    {
        var text = System.Text.Encoding.UTF8.GetString(Written(format, evt));
        LetGoOfLargeBuffer();
        return text;
    }

    /// <summary>
    /// Whether <paramref name="body"/>, rendered in <paramref name="format"/>, is also its event's
    /// snapshot as <see cref="JsonNode.ToJsonString"/> writes it by default, character for character.
    /// The transaction format's body is the snapshot; it is written here with names and addresses
    /// as they are, where the default escapes every character outside printable ASCII and a few
    /// within it (<c>&amp; ' + &lt; &gt; `</c>) and writes a quote or backslash inside a text in
    /// another way: a body with none of those reads the same either way.
    /// </summary>
    public static bool IsSnapshotText(PayloadFormat format, string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return format == PayloadFormat.Transaction && !body.AsSpan().ContainsAnyExcept(WrittenAlike);
    }

    // Printable ASCII but the backslash (every escape begins with one) and what the default escapes.
    private static readonly SearchValues<char> WrittenAlike = SearchValues.Create(
        string.Concat(Enumerable.Range(0x20, 0x7f - 0x20).Select(c => (char)c).Where(c => !"\\&'+<>`".Contains(c))));

    /// <summary>A thread keeps its buffer for bodies of ordinary size only.</summary>
    private static void LetGoOfLargeBuffer()
    {
        if (t_buffer is { Capacity: > 64 * 1024 })
        {
            t_buffer = null;
            t_writer = null;
        }
    }

    // One buffer and writer per thread, reused: a body is rendered on every recorded change.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Renders into this thread's buffer; the span is valid until the thread renders again.</summary>
    private static ReadOnlySpan<byte> Written(PayloadFormat format, EntityEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (format.EntityKind() != evt.EntityKind)
        {
            throw new ArgumentException($"format {format.ApiName()} does not render {evt.EntityKind.ApiName()} events", nameof(format));
        }
        var node = format switch
        {
            PayloadFormat.Thin => Thin(evt),
            PayloadFormat.Point => Point(evt.Snapshot),
            // Writing reads the snapshot and changes nothing in it: no copy is needed.
            PayloadFormat.Transaction => evt.Snapshot,
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        node.WriteTo(writer);
        writer.Flush();
        return buffer.WrittenSpan;
    }

    /// <summary>Seed 001: the event id, its type and the entity to GET.</summary>
    private static JsonObject Thin(EntityEvent evt) => new()
    {
        ["id"] = evt.Id,
        ["event_type"] = evt.Type,
        ["entity_type"] = evt.EntityKind.TypeName(),
        ["entity_id"] = evt.EntityId,
    };

    /// <summary>
    /// Seed 000: <c>payment</c> only for FINISHED, <c>ticket_number</c> only for site <c>mla</c>;
    /// the site itself is not part of the payload.
    /// </summary>
    private static JsonObject Point(JsonObject doc)
    {
        var state = doc["state"]?.GetValue<string>();
        var site = doc["site"]?.GetValue<string>();
        var payload = new JsonObject
        {
            ["amount"] = doc["amount"]?.DeepClone(),
            ["caller_id"] = doc["caller_id"]?.DeepClone(),
            ["client_id"] = doc["client_id"]?.DeepClone(),
            ["created_at"] = doc["created_at"]?.DeepClone(),
            ["id"] = doc["id"]?.DeepClone(),
        };
        if (state == "FINISHED")
        {
            var payment = doc["payment"] as JsonObject;
            payload["payment"] = new JsonObject
            {
                ["id"] = payment?["id"]?.DeepClone(),
                ["state"] = payment?["state"]?.DeepClone(),
                ["type"] = payment?["type"]?.DeepClone(),
            };
        }
        payload["state"] = state;
        var info = doc["additional_info"] as JsonObject;
        var additional = new JsonObject { ["external_reference"] = info?["external_reference"]?.DeepClone() };
        if (site == "mla")
        {
            additional["ticket_number"] = info?["ticket_number"]?.DeepClone();
        }
        payload["additional_info"] = additional;
        return payload;
    }
}
