using System.Text.Json.Nodes;
using Herald.Entities;

namespace Herald.Events;

/// <summary>
/// One accepted state change of one entity: what every notification of the change is rendered from.
/// </summary>
/// <param name="Id">The event id (<c>evt_…</c>): the <c>webhook-id</c> of every notification of it.</param>
/// <param name="MerchantId">The merchant that owns the entity.</param>
/// <param name="EntityKind">The entity's kind.</param>
/// <param name="EntityId">The entity's id.</param>
/// <param name="Type">The event type, <c>PAYMENT_ORDER.CLOSED</c>.</param>
/// <param name="FromState">The state before; <c>null</c> when the entity was created.</param>
/// <param name="ToState">The state after.</param>
/// <param name="Version">The entity's version after the change (1 on creation).</param>
/// <param name="OccurredAt">When the change was recorded.</param>
/// <param name="Snapshot">The entity document at this version.</param>
public sealed record EntityEvent(
    string Id,
    string MerchantId,
    EntityKind EntityKind,
    string EntityId,
    string Type,
    string? FromState,
    string ToState,
    int Version,
    DateTimeOffset OccurredAt,
    JsonObject Snapshot);
