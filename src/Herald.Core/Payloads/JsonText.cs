using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Payloads;

/// <summary>
/// How Herald writes the JSON documents it keeps or sends: compact, with names and addresses as
/// they are written (an accent stays an accent, not a <c>\u</c> escape). Entity documents, event
/// snapshots, preferences and bodies are all written here, so the transaction format's body, which is its
/// event's snapshot, is the snapshot's stored text character for character and is kept once.
/// </summary>
public static class JsonText
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        // Receivers get names and addresses as written. Nothing Herald writes is placed in HTML unencoded.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The node's text.</summary>
    public static string Of(JsonNode node)
    {
        var text = System.Text.Encoding.UTF8.GetString(Utf8(node));
        LetGoOfLargeBuffer();
        return text;
    }

    // One buffer and writer per thread, reused: a text is written for every recorded change.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes into this thread's buffer; the span is valid until the thread writes again.</summary>
    private static ReadOnlySpan<byte> Utf8(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        node.WriteTo(writer);
        writer.Flush();
        return buffer.WrittenSpan;
    }

    /// <summary>A thread keeps its buffer for texts of ordinary size only.</summary>
    private static void LetGoOfLargeBuffer()
    {
        if (t_buffer is { Capacity: > 64 * 1024 })
        {
            t_buffer = null;
            t_writer = null;
        }
    }
}
