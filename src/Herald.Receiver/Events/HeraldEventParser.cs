using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Receiver.Events;

/// <summary>Recognises which of Herald's three formats a payload is.</summary>
public static class HeraldEventParser
{
    // A key given twice (anywhere in the body) is not JSON the models can read, and Herald sends
    // none: read leniently, the object would fail at its first look-up with the dictionary's own error.
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// Parses <paramref name="body"/> into the event of its format, or an <see cref="OtherEvent"/>
    /// (also for a body that is not JSON, gives a key twice, or holds a text that is not Unicode). Thin events come back without their
    /// order; the endpoint fetches it.
    /// </summary>
    /// <exception cref="JsonException">
    /// The body is a transaction or Point notification with a field of another type than its seed's
    /// (Herald sends none such): its typed model could not be read.
    /// </exception>
    public static HeraldEvent Parse(string webhookId, DateTimeOffset timestamp, int? attempt, ReadOnlySpan<byte> body)
    {
        JsonObject? payload = null;
        try
        {
            payload = ReadObject(body);
        }
        catch (JsonException)
        {
        }
        if (payload is null)
        {
            return new OtherEvent(webhookId, timestamp, attempt, [], System.Text.Encoding.UTF8.GetString(body));
        }
        if (payload.ContainsKey("event_type") && payload.ContainsKey("entity_id"))
        {
            return new PaymentOrderEvent(webhookId, timestamp, attempt, payload, null);
        }
        if (payload.ContainsKey("internalId"))
        {
            return new TransactionEvent(webhookId, timestamp, attempt, payload);
        }
        if (payload.ContainsKey("caller_id") && payload.ContainsKey("state"))
        {
            return new PaymentIntentEvent(webhookId, timestamp, attempt, payload);
        }
        return new OtherEvent(webhookId, timestamp, attempt, payload, System.Text.Encoding.UTF8.GetString(body));
    }

    /// <summary>
    /// The JSON object <paramref name="json"/> holds, read whole as the kit's models read one: what
    /// could only fail later, in a model or in a handler's own look-ups, and with another error than
    /// a <see cref="JsonException"/>, fails here.
    /// </summary>
    /// <exception cref="JsonException">
    /// <paramref name="json"/> is not JSON, is another value than an object, gives a key twice, or
    /// holds a text escaped as a lone surrogate; the message says which, never the text itself.
    /// </exception>
    internal static JsonObject ReadObject(ReadOnlySpan<byte> json)
    {
        // Texts first: a key given twice is looked for by the keys' texts, which a lone surrogate fails with another error.
        if (!IsUnicodeText(json))
        {
            throw new JsonException("a text in it is escaped as a lone surrogate (\\ud800), which is no Unicode text");
        }
        var node = JsonNode.Parse(json, documentOptions: Strict);
        return node as JsonObject
            ?? throw new JsonException($"not a JSON object but {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}");
    }

    /// <summary>
    /// Whether every text of a JSON body reads as Unicode. An escaped lone surrogate (<c>"\ud800"</c>)
    /// is JSON by its grammar but no text (Herald's API refuses it as malformed): the parser reads
    /// texts only when they are looked at, so it would fail in a model, or in the handler, with an
    /// error that is not a <see cref="JsonException"/>. Only a <c>\u</c> escape can write one.
    /// </summary>
    private static bool IsUnicodeText(ReadOnlySpan<byte> body)
    {
        if (body.IndexOf("\\u"u8) < 0)
        {
            // Herald writes texts unescaped but for control characters: most bodies hold no \u at all.
            return true;
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = Strict.MaxDepth });
        try
        {
            while (reader.Read())
            {
                if (reader.ValueIsEscaped && reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    _ = reader.GetString();
                }
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (JsonException)
        {
            // Not JSON at all: the parse that follows says so.
        }
        return true;
    }
}
