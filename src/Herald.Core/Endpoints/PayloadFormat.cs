using Herald.Entities;

namespace Herald.Endpoints;

/// <summary>The wire format an endpoint integrated against; each serves one entity kind.</summary>
public enum PayloadFormat
{
    /// <summary>Seed 003: the whole transaction, camelCase.</summary>
    Transaction,

    /// <summary>Seed 000: the Point payment intent.</summary>
    Point,

    /// <summary>Seed 001: <c>{id, event_type, entity_type, entity_id}</c>; the receiver GETs the entity.</summary>
    Thin,

    /// <summary>
    /// Herald's own events for the operator (<c>endpoint.disabled</c>, <c>endpoint.recovered</c>,
    /// <c>notification.dead</c>, …): <c>{id, type, created_at, data}</c>. Not a merchant's choice.
    /// </summary>
    Operator,
}

public static class PayloadFormats
{
    private static readonly HashSet<string> PointStates = new(StringComparer.Ordinal) { "FINISHED", "CANCELED", "ERROR" };

    public static IReadOnlyList<PayloadFormat> All { get; } = [PayloadFormat.Transaction, PayloadFormat.Point, PayloadFormat.Thin];

    public static string ApiName(this PayloadFormat format) => format switch
    {
        PayloadFormat.Transaction => "transaction",
        PayloadFormat.Point => "point",
        PayloadFormat.Thin => "thin",
        PayloadFormat.Operator => "operator",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static bool TryParse(string? value, out PayloadFormat format)
    {
        foreach (var f in All)
        {
            if (string.Equals(f.ApiName(), value, StringComparison.Ordinal))
            {
                format = f;
                return true;
            }
        }
        format = default;
        return false;
    }

    /// <summary>Parses a stored format, the operator's included (which merchants cannot choose).</summary>
    public static PayloadFormat Parse(string value) =>
        TryParse(value, out var f) ? f
        : value == PayloadFormat.Operator.ApiName() ? PayloadFormat.Operator
        : throw new FormatException($"unknown payload format '{value}'");

    /// <summary>The entity kind whose events this format renders.</summary>
    public static EntityKind EntityKind(this PayloadFormat format) => format switch
    {
        PayloadFormat.Transaction => Entities.EntityKind.Transaction,
        PayloadFormat.Point => Entities.EntityKind.PaymentIntent,
        PayloadFormat.Thin => Entities.EntityKind.PaymentOrder,
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The format that renders events of <paramref name="kind"/>.</summary>
    public static PayloadFormat For(Entities.EntityKind kind) => kind switch
    {
        Entities.EntityKind.Transaction => PayloadFormat.Transaction,
        Entities.EntityKind.PaymentIntent => PayloadFormat.Point,
        Entities.EntityKind.PaymentOrder => PayloadFormat.Thin,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Whether a change to <paramref name="state"/> is notified in this format. Seed 000 notifies
    /// only the FINISHED, CANCELED and ERROR states of a payment intent; the others notify every state.
    /// </summary>
    public static bool Notifies(this PayloadFormat format, string state) =>
        format != PayloadFormat.Point || PointStates.Contains(state);

    /// <summary>The event types this format notifies, in the order of its entity's states.</summary>
    public static IReadOnlyList<string> EventTypes(this PayloadFormat format)
    {
        var kind = format.EntityKind();
        return StateMachines.For(kind).States.Where(state => format.Notifies(state)).Select(state => Events.EventTypes.For(kind, state)).ToList();
    }

    /// <summary>Seed 003 counts only HTTP 200 as received; the other formats accept any 2xx.</summary>
    public static SuccessRule DefaultSuccessRule(this PayloadFormat format) =>
        format == PayloadFormat.Transaction ? SuccessRule.Exactly200 : SuccessRule.Any2xx;

    /// <summary>Seed 003 resends every hour; the others back off exponentially.</summary>
    public static Retry.RetryPolicy DefaultRetryPolicy(this PayloadFormat format) =>
        format == PayloadFormat.Transaction ? Retry.RetryPolicy.Hourly : Retry.RetryPolicy.Exponential;
}
