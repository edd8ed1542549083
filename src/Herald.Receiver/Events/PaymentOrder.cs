using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Herald.Receiver.Events;

/// <summary>
/// A payment order as Herald answers <c>GET /v1/payment_orders/{id}</c>, which seed 001 tells a
/// receiver of a thin notification to read.
/// </summary>
public sealed record PaymentOrder
{
    /// <summary>The order's id.</summary>
    [JsonPropertyName("id")]
    public string Id { get; init; } = "";

    /// <summary>The checkout preference the order was made from, if any.</summary>
    [JsonPropertyName("preference_id")]
    public string? PreferenceId { get; init; }

    /// <summary>The amount, with the decimals it was written with.</summary>
    [JsonPropertyName("amount")]
    public decimal Amount { get; init; }

    /// <summary>The currency, ISO 4217.</summary>
    [JsonPropertyName("currency")]
    public string? Currency { get; init; }

    /// <summary>The merchant's reference.</summary>
    [JsonPropertyName("external_reference")]
    public string? ExternalReference { get; init; }

    /// <summary>The order's description.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; init; }

    /// <summary>OPENED, EXPIRED, CLOSED, REJECTED or REFUNDED.</summary>
    [JsonPropertyName("status")]
    public string Status { get; init; } = "";

    /// <summary>When the order was created.</summary>
    [JsonPropertyName("created_at")]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the order last changed.</summary>
    [JsonPropertyName("updated_at")]
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Reads what <see cref="HeraldClient.GetPaymentOrderAsync"/> answers.</summary>
    /// <exception cref="JsonException">A field holds a value of another type than Herald's.</exception>
    public static PaymentOrder From(JsonObject document) => EventJson.Read(document, EventJson.Default.PaymentOrder);
}
