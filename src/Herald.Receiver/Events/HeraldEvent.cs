using System.Text.Json.Nodes;

namespace Herald.Receiver.Events;

/// <summary>One notification from Herald, recognised from its payload.</summary>
/// <param name="WebhookId">
/// The <c>webhook-id</c>: the event id, the same on every retry and for every endpoint that receives
/// the event; what handling is deduplicated on, within the receiver's
/// <see cref="HeraldWebhookOptions.IdempotencyScope"/>.
/// </param>
/// <param name="Timestamp">When this attempt was signed.</param>
/// <param name="Attempt">Herald's attempt number (1 for the first try), when it sent one.</param>
/// <param name="Payload">The body as received.</param>
public abstract record HeraldEvent(string WebhookId, DateTimeOffset Timestamp, int? Attempt, JsonObject Payload);

/// <summary>
/// A notification whose payload is none of the three formats (or not JSON at all): signed by Herald
/// all the same, so it is handed over rather than refused.
/// </summary>
/// <param name="WebhookId">The <c>webhook-id</c>.</param>
/// <param name="Timestamp">When this attempt was signed.</param>
/// <param name="Attempt">Herald's attempt number.</param>
/// <param name="Payload">The body when it is a JSON object, else an empty object.</param>
/// <param name="Body">The body as text.</param>
public sealed record OtherEvent(string WebhookId, DateTimeOffset Timestamp, int? Attempt, JsonObject Payload, string Body)
    : HeraldEvent(WebhookId, Timestamp, Attempt, Payload)
{
    /// <summary>The <c>event_type</c> of the test notification an endpoint's Test sends.</summary>
    public const string TestEventType = "HERALD.TEST";

    /// <summary>
    /// Whether this is the test notification Herald sends when an endpoint is tested
    /// (<c>POST /v1/endpoints/{id}/test</c>, <c>event_type</c> <see cref="TestEventType"/>): signed like
    /// any notification but about no entity, so a handler may acknowledge it and do nothing.
    /// </summary>
    public bool IsTest => Payload["event_type"] is JsonValue type && type.TryGetValue<string>(out var name) && name == TestEventType;
}

/// <summary>A Point payment intent notification (format <c>point</c>).</summary>
/// <param name="WebhookId">The <c>webhook-id</c>.</param>
/// <param name="Timestamp">When this attempt was signed.</param>
/// <param name="Attempt">Herald's attempt number.</param>
/// <param name="Payload">The body as received.</param>
/// <exception cref="System.Text.Json.JsonException">A field of <paramref name="Payload"/> holds a value of another type than seed 000's.</exception>
public sealed record PaymentIntentEvent(string WebhookId, DateTimeOffset Timestamp, int? Attempt, JsonObject Payload)
    : HeraldEvent(WebhookId, Timestamp, Attempt, Payload)
{
    private ReadFrom<PaymentIntent>? _intent = new(Payload, PaymentIntent.From(Payload));

    /// <summary>
    /// The payment intent, every field of seed 000's payload read (read again from a
    /// <see cref="HeraldEvent.Payload"/> given with <c>with</c>).
    /// </summary>
    public PaymentIntent Intent
    {
        get => ReadFrom<PaymentIntent>.Of(ref _intent, Payload, PaymentIntent.From);
        init => _intent = new(Payload, value);
    }

    /// <summary>The payment intent's id.</summary>
    public string IntentId => Intent.Id;

    /// <summary>FINISHED, CANCELED or ERROR.</summary>
    public string State => Intent.State;

    /// <summary>The amount.</summary>
    public decimal Amount => Intent.Amount;

    /// <summary>The payment that finished the intent, as received; only for FINISHED (<see cref="PaymentIntent.Payment"/> reads it).</summary>
    public JsonObject? Payment => Payload["payment"] as JsonObject;

    /// <summary>The merchant's reference.</summary>
    public string? ExternalReference => Intent.AdditionalInfo?.ExternalReference;

    /// <summary>The ticket number; only for site mla.</summary>
    public string? TicketNumber => Intent.AdditionalInfo?.TicketNumber;
}

/// <summary>
/// A thin payment-order notification (format <c>thin</c>): only which order changed and how. When the
/// options carry a <see cref="HeraldClient"/>, <see cref="Order"/> holds the order as Herald has it now.
/// </summary>
/// <param name="WebhookId">The <c>webhook-id</c>, equal to the payload's <c>id</c>.</param>
/// <param name="Timestamp">When this attempt was signed.</param>
/// <param name="Attempt">Herald's attempt number.</param>
/// <param name="Payload">The body as received.</param>
/// <param name="Order">The payment order fetched after the notification, or <c>null</c> without a client.</param>
public sealed record PaymentOrderEvent(string WebhookId, DateTimeOffset Timestamp, int? Attempt, JsonObject Payload, JsonObject? Order)
    : HeraldEvent(WebhookId, Timestamp, Attempt, Payload)
{
    /// <summary>For example <c>PAYMENT_ORDER.CLOSED</c>.</summary>
    public string EventType => Text("event_type");

    /// <summary><c>PAYMENT_ORDER</c>.</summary>
    public string EntityType => Text("entity_type");

    /// <summary>The order's id, to GET at <c>/v1/payment_orders/{id}</c>.</summary>
    public string OrderId => Text("entity_id");

    /// <summary>
    /// <see cref="Order"/> read into its fields, or <c>null</c> without a client.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">A field of the order holds a value of another type than Herald's.</exception>
    public PaymentOrder? PaymentOrder => Order is null ? null : PaymentOrder.From(Order);

    private string Text(string field) => Payload[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : "";
}

/// <summary>A transaction notification (format <c>transaction</c>): the whole transaction.</summary>
/// <param name="WebhookId">The <c>webhook-id</c>.</param>
/// <param name="Timestamp">When this attempt was signed.</param>
/// <param name="Attempt">Herald's attempt number.</param>
/// <param name="Payload">The body as received.</param>
/// <exception cref="System.Text.Json.JsonException">A field of <paramref name="Payload"/> holds a value of another type than seed 003's.</exception>
public sealed record TransactionEvent(string WebhookId, DateTimeOffset Timestamp, int? Attempt, JsonObject Payload)
    : HeraldEvent(WebhookId, Timestamp, Attempt, Payload)
{
    private ReadFrom<Transaction>? _transaction = new(Payload, Transaction.From(Payload));

    /// <summary>
    /// The transaction, every field of seed 003's payload read (customer, order details, addresses;
    /// read again from a <see cref="HeraldEvent.Payload"/> given with <c>with</c>).
    /// </summary>
    public Transaction Transaction
    {
        get => ReadFrom<Transaction>.Of(ref _transaction, Payload, Transaction.From);
        init => _transaction = new(Payload, value);
    }

    /// <summary>Herald's id of the transaction.</summary>
    public string InternalId => Transaction.InternalId;

    /// <summary>
    /// INIT, USER_CANCEL, PROCESSING, COMPLETED, ERROR, DECINED (seed 003's spelling, also for a body
    /// that says <c>DECLINED</c>, as Herald wrote it before), EXPIRED or REFUNDED.
    /// </summary>
    public string Status => Transaction.Status;

    /// <summary>The amount (Herald takes no transaction without one).</summary>
    public decimal PaymentAmount => Transaction.PaymentAmount ?? 0;

    /// <summary>The currency.</summary>
    public string? Currency => Transaction.Currency;

    /// <summary>The merchant's reference.</summary>
    public string? MerchantReference => Transaction.MerchantReference;
}

/// <summary>
/// A typed model read from one JSON object, kept with it: an event copied <c>with</c> another
/// payload reads that one instead of keeping the model of the payload it was made with.
/// </summary>
internal sealed record ReadFrom<T>(JsonObject Source, T Value)
{
    public static T Of(ref ReadFrom<T>? kept, JsonObject source, Func<JsonObject, T> read)
    {
        var now = Volatile.Read(ref kept);
        if (now is not null && ReferenceEquals(now.Source, source))
        {
            return now.Value;
        }
        var fresh = new ReadFrom<T>(source, read(source));
        Volatile.Write(ref kept, fresh);
        return fresh.Value;
    }
}
