using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;

namespace Herald.Payloads;

/// <summary>
/// Renders an event into the body one format sends. The body is rendered once, when the change
/// is recorded, and sent unchanged on every attempt and resend.
/// </summary>
public static class PayloadRenderer
{
    /// <summary>The body as text, as it is stored and, UTF-8 encoded, sent.</summary>
    public static string RenderText(PayloadFormat format, EntityEvent evt) => JsonText.Of(Body(format, evt));

    /// <summary>
    /// Whether the format's body is its event's snapshot itself (the transaction format): its text
    /// is then the snapshot's stored text, both written by <see cref="JsonText"/>.
    /// </summary>
    public static bool SendsSnapshot(PayloadFormat format) => format == PayloadFormat.Transaction;

    private static JsonObject Body(PayloadFormat format, EntityEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (format.EntityKind() != evt.EntityKind)
        {
            throw new ArgumentException($"format {format.ApiName()} does not render {evt.EntityKind.ApiName()} events", nameof(format));
        }
        return format switch
        {
            PayloadFormat.Thin => Thin(evt),
            PayloadFormat.Point => Point(evt.Snapshot),
            // Writing reads the snapshot and changes nothing in it: no copy is needed.
            PayloadFormat.Transaction => evt.Snapshot,
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
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
