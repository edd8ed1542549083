using System.Globalization;
using System.Text.Json.Nodes;

namespace Herald.Entities;

/// <summary>
/// The stored document of each entity kind, in the field names and order its seed uses, so that
/// snapshots, API answers and fat payloads all read the same.
/// </summary>
/// <remarks>
/// <para>transaction (seed 003): <c>internalId, sessionId, merchantName, userId, type, paymentOptionName,
/// country, currency, paymentAmount, merchantReference, status, language, paymentReference, storedToken,
/// extra1..3, customer{…, address{…}, identify{…}}, orderDetails[…], shippingAddress{…}</c>.</para>
/// <para>payment_intent (seed 000): <c>id, amount, caller_id, client_id, created_at, site, state,
/// payment{id,state,type}?, additional_info{external_reference, ticket_number?}</c>.</para>
/// <para>payment_order (seed 001): <c>id, preference_id, amount, currency, external_reference,
/// description, status, created_at, updated_at</c>.</para>
/// </remarks>
public static class EntityDocuments
{
    /// <summary>Seed 000 writes times as <c>2021-11-29 17:10:37</c>.</summary>
    public const string PointTimeFormat = "yyyy-MM-dd HH:mm:ss";

    /// <summary>The Point sites of seed 000; only <c>mla</c> carries a ticket number.</summary>
    public static IReadOnlyList<string> PointSites { get; } = ["mla", "mlb", "mlm"];

    /// <summary>The document field that holds the entity's state.</summary>
    public static string StateField(EntityKind kind) => kind == EntityKind.PaymentIntent ? "state" : "status";

    /// <summary>The document field that holds the entity's id.</summary>
    public static string IdField(EntityKind kind) => kind == EntityKind.Transaction ? "internalId" : "id";

    public static string FormatPointTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(PointTimeFormat, CultureInfo.InvariantCulture);

    public static string FormatApiTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads the state out of a document.</summary>
    public static string StateOf(EntityKind kind, JsonObject document) =>
        document[StateField(kind)]?.GetValue<string>() ?? throw new InvalidOperationException("document has no state");

    /// <summary>
    /// Returns a copy of <paramref name="document"/> in state <paramref name="to"/>, with the fields
    /// of <paramref name="data"/> merged in (objects merge field by field, everything else replaces).
    /// </summary>
    public static JsonObject WithChange(EntityKind kind, JsonObject document, string to, JsonObject? data, DateTimeOffset now)
    {
        var copy = (JsonObject)document.DeepClone();
        if (data is not null)
        {
            Merge(copy, data);
        }
        copy[StateField(kind)] = to;
        if (kind == EntityKind.PaymentOrder)
        {
            copy["updated_at"] = FormatApiTime(now);
        }
        return copy;
    }

    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source)
        {
            if (value is JsonObject sourceChild && target[key] is JsonObject targetChild)
            {
                Merge(targetChild, sourceChild);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }
}
