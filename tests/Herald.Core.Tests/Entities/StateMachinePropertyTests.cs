using FsCheck.Xunit;
using Herald.Entities;

namespace Herald.Core.Tests.Entities;

/// <summary>Properties of the state machines over generated sequences of requested moves.</summary>
public class StateMachinePropertyTests
{
    [Property(MaxTest = 500)]
    public bool NoSequenceOfMoves_ReachesAnUndeclaredState_OrLeavesAFinalOne(byte kindChoice, int[] requested)
    {
        var machine = StateMachines.For(EntityKinds.All[kindChoice % EntityKinds.All.Count]);
        var state = machine.Initial;
        foreach (var choice in requested ?? [])
        {
            var to = machine.States[(int)((uint)choice % (uint)machine.States.Count)];
            if (!machine.CanMove(state, to))
            {
                continue;
            }
            if (machine.IsFinal(state) || !machine.States.Contains(to) || to == state)
            {
                return false;
            }
            state = to;
        }
        return machine.States.Contains(state);
    }

    [Property(MaxTest = 500)]
    public bool Normalize_AcceptsOnlyDeclaredStates_AndTheSeedsAlias(byte kindChoice, string input)
    {
        var machine = StateMachines.For(EntityKinds.All[kindChoice % EntityKinds.All.Count]);
        var accepted = machine.TryNormalize(input, out var state);
        var expected = input is not null && (machine.States.Contains(input) || (machine.Kind == EntityKind.Transaction && input == "DECINED"));
        return accepted == expected && (!accepted || machine.States.Contains(state));
    }
}
