using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;

namespace Herald.Payloads;

/// <summary>
/// What an endpoint receives for an event type: the body rendered by <see cref="PayloadRenderer"/>,
/// the code every delivery goes through, from an entity holding the seeds' own example values. Where
/// a body carries its event's id (its <c>webhook-id</c>), the example has one of Herald's.
/// </summary>
public static class PayloadExamples
{
    /// <summary>The id examples carry where a real body carries its event's id (its <c>webhook-id</c>).</summary>
    public const string ExampleEventId = "evt_0123456789abcdefghjkmnpqrs";

    private static readonly DateTimeOffset At = new(2021, 11, 29, 17, 10, 37, TimeSpan.Zero);

    /// <summary>
    /// The body an endpoint of <paramref name="format"/> receives for <paramref name="eventType"/>
    /// (a type it notifies, in the spelling <see cref="EventTypes.TryNormalize"/> gives); null for
    /// a type the format does not notify.
    /// </summary>
    public static string? Render(PayloadFormat format, string eventType) => Render(format, eventType, ExampleEventId);

    /// <summary>The example of <paramref name="eventType"/> as <see cref="Render(PayloadFormat, string)"/> renders it, its event's id <paramref name="eventId"/>.</summary>
    public static string? Render(PayloadFormat format, string eventType, string eventId)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        if (!format.EventTypes().Contains(eventType, StringComparer.Ordinal))
        {
            return null;
        }
        var kind = format.EntityKind();
        var state = eventType[(kind.TypeName().Length + 1)..];
        var (id, document) = kind switch
        {
            EntityKind.Transaction => ("ee40a31b-a14f-48e2-a272-e3fc013f4735", Transaction(state)),
            EntityKind.PaymentIntent => ("abcdef123-8ab5-4139-9aa3-abcd123", PointIntent(state)),
            _ => ("rcAaNfKdKJRmrnj4l5", new JsonObject { ["id"] = "rcAaNfKdKJRmrnj4l5", ["status"] = state }),
        };
        var evt = new EntityEvent(eventId, "mer_example", kind, id, eventType, null, state, 2, At, document);
        return PayloadRenderer.RenderText(format, evt);
    }

    /// <summary>Seed 003's example transaction, in <paramref name="state"/>.</summary>
    private static JsonObject Transaction(string state)
    {
        var address = new JsonObject
        {
            ["street"] = "32 Windsor Gardens", ["streetNumber"] = "24", ["country"] = "GB", ["zipCode"] = "W9 3RG", ["city"] = "London", ["state"] = "Great London.",
        };
        return new JsonObject
        {
            ["internalId"] = "ee40a31b-a14f-48e2-a272-e3fc013f4735",
            ["sessionId"] = "35eac8b8-e40b-447e-a214-8dd1f0e23996",
            ["merchantName"] = "Fer Merchant",
            ["userId"] = "Merch_User_123",
            ["type"] = "BANK",
            ["paymentOptionName"] = "Lottery",
            ["country"] = "BR",
            ["currency"] = "BRL",
            ["paymentAmount"] = 130,
            ["merchantReference"] = "orde123",
            ["status"] = state,
            ["language"] = "ES",
            ["paymentReference"] = "Invoice ABC123",
            ["storedToken"] = "index-stored",
            ["extra1"] = "extraData001",
            ["extra2"] = "extraData002",
            ["extra3"] = "extraData003",
            ["customer"] = new JsonObject
            {
                ["name"] = "John Doe",
                ["email"] = "john@email.test",
                ["phone"] = "+34666999666",
                ["userDevice"] = "MOBILE",
                ["userAgent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36",
                ["ip"] = "84.232.140.77",
                ["address"] = address.DeepClone(),
                ["identify"] = new JsonObject { ["number"] = "76486883X", ["type"] = "DNI" },
            },
            ["orderDetails"] = new JsonArray(new JsonObject
            {
                ["productName"] = "shirt-1233474", ["quantity"] = 1, ["dimensions"] = "85x51", ["description"] = "Blue sports t-shirt ",
            }),
            ["shippingAddress"] = address,
        };
    }

    /// <summary>Seed 000's example payment intent (site <c>mla</c>, so its ticket number shows), in <paramref name="state"/>.</summary>
    private static JsonObject PointIntent(string state)
    {
        var document = new JsonObject
        {
            ["id"] = "abcdef123-8ab5-4139-9aa3-abcd123",
            ["amount"] = 100,
            ["site"] = "mla",
            ["client_id"] = 1234567890,
            ["caller_id"] = 9876543,
            ["created_at"] = "2021-11-29 17:10:37",
            ["state"] = state,
            ["additional_info"] = new JsonObject { ["external_reference"] = "information", ["ticket_number"] = "39SHDKKDJ" },
        };
        if (state == "FINISHED")
        {
            document["payment"] = new JsonObject { ["id"] = 123456789, ["state"] = "approved", ["type"] = "credit_card" };
        }
        return document;
    }
}
