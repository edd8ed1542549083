namespace Herald.Entities;

/// <summary>The state machines of the three entity kinds, with exactly the states the seeds name.</summary>
public static class StateMachines
{
    /// <summary>
    /// Point payment intents (seed 000): born <c>OPEN</c>; the seed notifies <c>FINISHED</c>,
    /// <c>CANCELED</c> and <c>ERROR</c>, all final.
    /// </summary>
    public static StateMachine PaymentIntent { get; } = new(EntityKind.PaymentIntent, "OPEN", new Dictionary<string, string[]>
    {
        ["OPEN"] = ["FINISHED", "CANCELED", "ERROR"],
        ["FINISHED"] = [],
        ["CANCELED"] = [],
        ["ERROR"] = [],
    });

    /// <summary>Payment orders (seed 001): born <c>OPENED</c>; a closed (paid) order can still be refunded.</summary>
    public static StateMachine PaymentOrder { get; } = new(EntityKind.PaymentOrder, "OPENED", new Dictionary<string, string[]>
    {
        ["OPENED"] = ["EXPIRED", "CLOSED", "REJECTED"],
        ["EXPIRED"] = [],
        ["CLOSED"] = ["REFUNDED"],
        ["REJECTED"] = [],
        ["REFUNDED"] = [],
    });

    /// <summary>
    /// Transactions (seed 003): born <c>INIT</c>. The seed's table spells the declined state
    /// <c>DECINED</c>, and a receiver written against it matches that spelling: Herald names the
    /// state as the seed does, and takes <c>DECLINED</c> for it on input.
    /// </summary>
    public static StateMachine Transaction { get; } = new(EntityKind.Transaction, "INIT", new Dictionary<string, string[]>
    {
        ["INIT"] = ["USER_CANCEL", "PROCESSING", "COMPLETED", "ERROR", "DECINED", "EXPIRED"],
        ["USER_CANCEL"] = [],
        ["PROCESSING"] = ["COMPLETED", "ERROR", "DECINED", "EXPIRED"],
        ["COMPLETED"] = ["REFUNDED"],
        ["ERROR"] = [],
        ["DECINED"] = [],
        ["EXPIRED"] = [],
        ["REFUNDED"] = [],
    }, new Dictionary<string, string> { ["DECLINED"] = "DECINED" });

    public static StateMachine For(EntityKind kind) => kind switch
    {
        EntityKind.PaymentIntent => PaymentIntent,
        EntityKind.PaymentOrder => PaymentOrder,
        EntityKind.Transaction => Transaction,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
