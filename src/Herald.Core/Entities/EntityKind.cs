namespace Herald.Entities;

/// <summary>The three kinds of payment entity whose state changes Herald notifies.</summary>
public enum EntityKind
{
    /// <summary>A Point payment intent (seed 000).</summary>
    PaymentIntent,

    /// <summary>A payment order made from a checkout preference (seed 001).</summary>
    PaymentOrder,

    /// <summary>A transaction (seed 003).</summary>
    Transaction,
}

public static class EntityKinds
{
    public static IReadOnlyList<EntityKind> All { get; } = [EntityKind.PaymentIntent, EntityKind.PaymentOrder, EntityKind.Transaction];

    /// <summary>The snake_case name used in Herald's API and storage: <c>payment_order</c>.</summary>
    public static string ApiName(this EntityKind kind) => kind switch
    {
        EntityKind.PaymentIntent => "payment_intent",
        EntityKind.PaymentOrder => "payment_order",
        EntityKind.Transaction => "transaction",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The upper-case name used in event types and thin payloads: <c>PAYMENT_ORDER</c>.</summary>
    public static string TypeName(this EntityKind kind) => kind switch
    {
        EntityKind.PaymentIntent => "PAYMENT_INTENT",
        EntityKind.PaymentOrder => "PAYMENT_ORDER",
        EntityKind.Transaction => "TRANSACTION",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static bool TryParseApiName(string? value, out EntityKind kind)
    {
        foreach (var k in All)
        {
            if (string.Equals(k.ApiName(), value, StringComparison.Ordinal))
            {
                kind = k;
                return true;
            }
        }
        kind = default;
        return false;
    }

    public static EntityKind ParseApiName(string value) =>
        TryParseApiName(value, out var kind) ? kind : throw new FormatException($"unknown entity kind '{value}'");
}
