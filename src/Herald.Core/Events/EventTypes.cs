using Herald.Entities;

namespace Herald.Events;

/// <summary>Event type names: the entity's type name and the state it moved to, as seed 001 spells them.</summary>
public static class EventTypes
{
    public static string For(EntityKind kind, string state) => string.Concat(kind.TypeName(), ".", state);

    /// <summary>Every event type of every kind, for validating endpoint filters.</summary>
    public static IReadOnlySet<string> All { get; } = EntityKinds.All
        .SelectMany(k => StateMachines.For(k).States.Select(s => For(k, s)))
        .ToHashSet(StringComparer.Ordinal);
}
