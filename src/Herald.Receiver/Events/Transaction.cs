using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Herald.Receiver.Events;

/// <summary>
/// A transaction as seed 003 describes it, field for field: the body of a <c>transaction</c>
/// notification, and Herald's answer to <c>GET /v1/transactions/{id}</c>. A field the platform left
/// out is <c>null</c> (an object or list left out is <c>null</c> whole).
/// </summary>
public sealed record Transaction
{
    /// <summary>Herald's id of the transaction.</summary>
    [JsonPropertyName("internalId")]
    public string InternalId { get; init; } = "";

    /// <summary>The payment session's id.</summary>
    [JsonPropertyName("sessionId")]
    public string? SessionId { get; init; }

    /// <summary>The merchant's name.</summary>
    [JsonPropertyName("merchantName")]
    public string? MerchantName { get; init; }

    /// <summary>The merchant's id of the paying user.</summary>
    [JsonPropertyName("userId")]
    public string? UserId { get; init; }

    /// <summary>The payment method's kind, e.g. <c>BANK</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    /// <summary>The payment option's name.</summary>
    [JsonPropertyName("paymentOptionName")]
    public string? PaymentOptionName { get; init; }

    /// <summary>The country, ISO 3166 (<c>BR</c>).</summary>
    [JsonPropertyName("country")]
    public string? Country { get; init; }

    /// <summary>The currency, ISO 4217 (<c>BRL</c>).</summary>
    [JsonPropertyName("currency")]
    public string? Currency { get; init; }

    /// <summary>The amount, with the decimals it was written with (<c>12.50</c> stays <c>12.50</c>).</summary>
    [JsonPropertyName("paymentAmount")]
    public decimal? PaymentAmount { get; init; }

    /// <summary>The merchant's reference.</summary>
    [JsonPropertyName("merchantReference")]
    public string? MerchantReference { get; init; }

    /// <summary>
    /// INIT, USER_CANCEL, PROCESSING, COMPLETED, ERROR, DECINED (seed 003's spelling), EXPIRED or
    /// REFUNDED. A body recorded before Herald wrote seed 003's spelling, and sent after (a retry, a
    /// resend), says <c>DECLINED</c>: it is read as <c>DECINED</c> too, so one comparison serves both.
    /// </summary>
    [JsonPropertyName("status")]
    public string Status
    {
        get => _status;
        init => _status = value == "DECLINED" ? "DECINED" : value;
    }

    private readonly string _status = "";

    /// <summary>The language, e.g. <c>ES</c>.</summary>
    [JsonPropertyName("language")]
    public string? Language { get; init; }

    /// <summary>The reference the payer sees.</summary>
    [JsonPropertyName("paymentReference")]
    public string? PaymentReference { get; init; }

    /// <summary>The stored payment token.</summary>
    [JsonPropertyName("storedToken")]
    public string? StoredToken { get; init; }

    /// <summary>The merchant's first free field.</summary>
    [JsonPropertyName("extra1")]
    public string? Extra1 { get; init; }

    /// <summary>The merchant's second free field.</summary>
    [JsonPropertyName("extra2")]
    public string? Extra2 { get; init; }

    /// <summary>The merchant's third free field.</summary>
    [JsonPropertyName("extra3")]
    public string? Extra3 { get; init; }

    /// <summary>The paying customer.</summary>
    [JsonPropertyName("customer")]
    public TransactionCustomer? Customer { get; init; }

    /// <summary>What was ordered.</summary>
    [JsonPropertyName("orderDetails")]
    public IReadOnlyList<TransactionOrderDetail>? OrderDetails { get; init; }

    /// <summary>Where the order is shipped.</summary>
    [JsonPropertyName("shippingAddress")]
    public TransactionAddress? ShippingAddress { get; init; }

    /// <summary>
    /// Reads a transaction document: a notification's body, or what
    /// <see cref="HeraldClient.GetTransactionAsync"/> answers.
    /// </summary>
    /// <exception cref="JsonException">A field holds a value of another type than seed 003's.</exception>
    public static Transaction From(JsonObject document) => EventJson.Read(document, EventJson.Default.Transaction);
}

/// <summary>Seed 003's <c>customer</c>.</summary>
public sealed record TransactionCustomer
{
    /// <summary>The customer's name.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>The customer's email address.</summary>
    [JsonPropertyName("email")]
    public string? Email { get; init; }

    /// <summary>The customer's phone number.</summary>
    [JsonPropertyName("phone")]
    public string? Phone { get; init; }

    /// <summary>The device paid on, e.g. <c>MOBILE</c>.</summary>
    [JsonPropertyName("userDevice")]
    public string? UserDevice { get; init; }

    /// <summary>The browser's user agent.</summary>
    [JsonPropertyName("userAgent")]
    public string? UserAgent { get; init; }

    /// <summary>The customer's IP address.</summary>
    [JsonPropertyName("ip")]
    public string? Ip { get; init; }

    /// <summary>The customer's address.</summary>
    [JsonPropertyName("address")]
    public TransactionAddress? Address { get; init; }

    /// <summary>The customer's identity document (seed 003 names it <c>identify</c>).</summary>
    [JsonPropertyName("identify")]
    public TransactionIdentity? Identify { get; init; }
}

/// <summary>Seed 003's address: a customer's <c>address</c>, or the <c>shippingAddress</c>.</summary>
public sealed record TransactionAddress
{
    /// <summary>The street.</summary>
    [JsonPropertyName("street")]
    public string? Street { get; init; }

    /// <summary>The number in the street.</summary>
    [JsonPropertyName("streetNumber")]
    public string? StreetNumber { get; init; }

    /// <summary>The country, ISO 3166.</summary>
    [JsonPropertyName("country")]
    public string? Country { get; init; }

    /// <summary>The postal code.</summary>
    [JsonPropertyName("zipCode")]
    public string? ZipCode { get; init; }

    /// <summary>The city.</summary>
    [JsonPropertyName("city")]
    public string? City { get; init; }

    /// <summary>The state or region.</summary>
    [JsonPropertyName("state")]
    public string? State { get; init; }
}

/// <summary>Seed 003's <c>identify</c>: a customer's identity document.</summary>
public sealed record TransactionIdentity
{
    /// <summary>The document's number.</summary>
    [JsonPropertyName("number")]
    public string? Number { get; init; }

    /// <summary>The document's kind, e.g. <c>DNI</c>.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }
}

/// <summary>One line of seed 003's <c>orderDetails</c>.</summary>
public sealed record TransactionOrderDetail
{
    /// <summary>The product's name.</summary>
    [JsonPropertyName("productName")]
    public string? ProductName { get; init; }

    /// <summary>How many.</summary>
    [JsonPropertyName("quantity")]
    public int? Quantity { get; init; }

    /// <summary>The product's dimensions, e.g. <c>85x51</c>.</summary>
    [JsonPropertyName("dimensions")]
    public string? Dimensions { get; init; }

    /// <summary>The product's description.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; init; }
}
