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

    /// <summary>Every event type in every spelling <see cref="TryNormalize"/> takes (seed 003's <c>TRANSACTION.DECINED</c>, and <c>TRANSACTION.DECLINED</c>).</summary>
    public static IReadOnlyList<string> Spellings { get; } = EntityKinds.All
        .SelectMany(k => StateMachines.For(k).Spellings.Select(s => For(k, s)))
        .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The event type an input names, its state spelled as the state machine spells it
    /// (<c>TRANSACTION.DECLINED</c> is seed 003's <c>TRANSACTION.DECINED</c>); false for no known type.
    /// </summary>
    public static bool TryNormalize(string? input, out string eventType)
    {
        eventType = "";
        if (input is null)
        {
            return false;
        }
        foreach (var kind in EntityKinds.All)
        {
            var prefix = kind.TypeName() + ".";
            if (input.StartsWith(prefix, StringComparison.Ordinal) && StateMachines.For(kind).TryNormalize(input[prefix.Length..], out var state))
            {
                eventType = For(kind, state);
                return true;
            }
        }
        return false;
    }
}
