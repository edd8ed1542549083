using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Herald.Receiver.Events;

/// <summary>
/// A Point payment intent as seed 000 describes it: the body of a <c>point</c> notification, and
/// Herald's answer to <c>GET /v1/payment_intents/{id}</c>.
/// </summary>
public sealed record PaymentIntent
{
    /// <summary>The payment intent's id.</summary>
    [JsonPropertyName("id")]
    public string Id { get; init; } = "";

    /// <summary>The amount (a whole number, as seed 000's are).</summary>
    [JsonPropertyName("amount")]
    public decimal Amount { get; init; }

    /// <summary>The caller's id.</summary>
    [JsonPropertyName("caller_id")]
    public long CallerId { get; init; }

    /// <summary>The client's id.</summary>
    [JsonPropertyName("client_id")]
    public long ClientId { get; init; }

    /// <summary>When the intent was created: seed 000 writes <c>2021-11-29 17:10:37</c>, with no zone, and Herald writes it in UTC.</summary>
    [JsonPropertyName("created_at")]
    [JsonConverter(typeof(PointTimeConverter))]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary><c>mla</c>, <c>mlb</c> or <c>mlm</c>; only in Herald's answer to a GET, a notification's body has none.</summary>
    [JsonPropertyName("site")]
    public string? Site { get; init; }

    /// <summary>OPEN, FINISHED, CANCELED or ERROR (notifications are sent for the last three).</summary>
    [JsonPropertyName("state")]
    public string State { get; init; } = "";

    /// <summary>The payment that finished the intent; only for FINISHED.</summary>
    [JsonPropertyName("payment")]
    public PaymentIntentPayment? Payment { get; init; }

    /// <summary>The merchant's additional information.</summary>
    [JsonPropertyName("additional_info")]
    public PaymentIntentAdditionalInfo? AdditionalInfo { get; init; }

    /// <summary>
    /// Reads a payment intent document: a notification's body, or what
    /// <see cref="HeraldClient.GetPaymentIntentAsync"/> answers.
    /// </summary>
    /// <exception cref="JsonException">A field holds a value of another type than seed 000's.</exception>
    public static PaymentIntent From(JsonObject document) => EventJson.Read(document, EventJson.Default.PaymentIntent);
}

/// <summary>Seed 000's <c>payment</c> of a FINISHED intent.</summary>
public sealed record PaymentIntentPayment
{
    /// <summary>The payment's id.</summary>
    [JsonPropertyName("id")]
    public long Id { get; init; }

    /// <summary>The payment's state, e.g. <c>approved</c>.</summary>
    [JsonPropertyName("state")]
    public string? State { get; init; }

    /// <summary>The payment's kind, e.g. <c>credit_card</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }
}

/// <summary>Seed 000's <c>additional_info</c>.</summary>
public sealed record PaymentIntentAdditionalInfo
{
    /// <summary>The merchant's reference.</summary>
    [JsonPropertyName("external_reference")]
    public string? ExternalReference { get; init; }

    /// <summary>The ticket number; only for site <c>mla</c>.</summary>
    [JsonPropertyName("ticket_number")]
    public string? TicketNumber { get; init; }
}
