using System.Text.Json.Serialization;
using Herald.Entities;

namespace Herald.Server.Api;

// What the entity routes answer: the entity's document, which EntitiesApi builds as a JSON tree in
// its seed's fields (EntityDocuments). These records describe that tree for the OpenAPI document;
// a transaction's is TransactionDocument itself.

/// <summary>A payment intent (seed 000); <c>payment</c> once it is FINISHED, <c>additional_info.ticket_number</c> for site mla.</summary>
public sealed record PaymentIntentResponse(
    string Id,
    long Amount,
    long CallerId,
    long ClientId,
    string CreatedAt,
    string Site,
    string State,
    AdditionalInfo AdditionalInfo,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PaymentInfo? Payment = null);

/// <summary>A payment order (seed 001).</summary>
public sealed record PaymentOrderResponse(
    string Id,
    string? PreferenceId,
    decimal Amount,
    string Currency,
    string? ExternalReference,
    string? Description,
    string Status,
    string CreatedAt,
    string UpdatedAt);

internal static class EntityResponses
{
    /// <summary>The record that describes the document of an entity of <paramref name="kind"/>.</summary>
    public static Type For(EntityKind kind) => kind switch
    {
        EntityKind.PaymentIntent => typeof(PaymentIntentResponse),
        EntityKind.PaymentOrder => typeof(PaymentOrderResponse),
        _ => typeof(TransactionDocument),
    };
}
