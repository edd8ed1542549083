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
    /// (also for a body that is not JSON, or gives a key twice). Thin events come back without their
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
            payload = body.IsEmpty ? null : JsonNode.Parse(body, documentOptions: Strict) as JsonObject;
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
}
