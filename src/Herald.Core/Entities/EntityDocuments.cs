using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Errors;
using Herald.Payloads;

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

    /// <summary>
    /// The most bytes an entity's document may take, as it is stored and as a notification built
    /// from it carries it (UTF-8, written by <see cref="JsonText"/>): 256 KB, a request's own limit.
    /// A document can be larger than the request that made it: every key of its seed is written,
    /// null or not, and a character beyond the Basic Multilingual Plane (an emoji) is written as
    /// a 12-byte escape.
    /// </summary>
    public const int MaxDocumentBytes = 256 * 1024;

    /// <summary>
    /// Refuses (413) a document whose text, <paramref name="json"/>, is over
    /// <see cref="MaxDocumentBytes"/>, naming its largest field: the one to make smaller. With
    /// <paramref name="roomForState"/>, it is measured as it would be in that state (its kind's
    /// longest), so that a document a request filled can move to any state without data: a
    /// transaction taken at the bound as <c>INIT</c> could otherwise never move, every other state
    /// being longer.
    /// </summary>
    public static void RefuseOversized(EntityKind kind, JsonObject document, string json, string? roomForState = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var bytes = Encoding.UTF8.GetByteCount(json);
        var room = roomForState is null ? 0 : Math.Max(0, roomForState.Length - StateOf(kind, document).Length);
        if (bytes + room <= MaxDocumentBytes)
        {
            return;
        }
        var (field, size) = LargestField(document);
        var inLongest = bytes <= MaxDocumentBytes ? $" ({bytes + room} in its longest state, {roomForState}, which it must have room to move to)" : "";
        throw new HeraldException(ErrorKind.PayloadTooLarge,
            $"the {kind.ApiName()} would be {bytes} bytes as stored and notified{inLongest}, more than the {MaxDocumentBytes} bytes ({MaxDocumentBytes / 1024} KB) an entity may be; its largest field, {field}, takes {size} of them");
    }

    /// <summary>
    /// Refuses (413) a checkout preference whose document is over <see cref="MaxDocumentBytes"/> as
    /// it is stored (its items kept whole, a character beyond the Basic Multilingual Plane as a
    /// 12-byte escape), naming its largest field: a preference is read back whole, in every page of
    /// the list too, so what it keeps is bounded as an entity's document is.
    /// </summary>
    public static void RefuseOversizedPreference(JsonObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var bytes = Encoding.UTF8.GetByteCount(JsonText.Of(document));
        if (bytes <= MaxDocumentBytes)
        {
            return;
        }
        var (field, size) = LargestField(document);
        throw new HeraldException(ErrorKind.PayloadTooLarge,
            $"the checkout preference would be {bytes} bytes as stored, more than the {MaxDocumentBytes} bytes ({MaxDocumentBytes / 1024} KB) a checkout preference may be; its largest field, {field}, takes {size} of them");
    }

    private static (string Field, int Bytes) LargestField(JsonObject document) =>
        document.Where(p => p.Value is not null)
            .Select(p => (p.Key, Bytes: Encoding.UTF8.GetByteCount(JsonText.Of(p.Value!))))
            .MaxBy(p => p.Bytes);

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
