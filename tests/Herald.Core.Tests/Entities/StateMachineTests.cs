using System.Text.Json.Nodes;
using Herald.Entities;

namespace Herald.Core.Tests.Entities;

public class StateMachineTests
{
    [Theory]
    [InlineData(EntityKind.PaymentIntent, "OPEN", "OPEN FINISHED CANCELED ERROR")]
    [InlineData(EntityKind.PaymentOrder, "OPENED", "OPENED EXPIRED CLOSED REJECTED REFUNDED")]
    [InlineData(EntityKind.Transaction, "INIT", "INIT USER_CANCEL PROCESSING COMPLETED ERROR DECINED EXPIRED REFUNDED")]
    public void EachKind_HasExactlyTheSeedsStates(EntityKind kind, string initial, string states)
    {
        var machine = StateMachines.For(kind);
        Assert.Equal(initial, machine.Initial);
        Assert.Equal(states.Split(' '), machine.States);
    }

    [Fact]
    public void Transaction_NamesTheDeclinedStateAsSeed003Does_AndTakesDeclinedForIt()
    {
        Assert.True(StateMachines.Transaction.TryNormalize("DECLINED", out var state));
        Assert.Equal("DECINED", state);
        Assert.True(StateMachines.Transaction.TryNormalize("DECINED", out state));
        Assert.Equal("DECINED", state);
        Assert.False(StateMachines.Transaction.TryNormalize("PAID", out _));
        Assert.False(StateMachines.Transaction.TryNormalize("completed", out _));
    }

    [Fact]
    public void FinalStates_HaveNoWayOut()
    {
        foreach (var kind in EntityKinds.All)
        {
            var machine = StateMachines.For(kind);
            foreach (var state in machine.States.Where(machine.IsFinal))
            {
                Assert.All(machine.States, to => Assert.False(machine.CanMove(state, to), $"{kind}: {state} -> {to}"));
            }
        }
        Assert.True(StateMachines.PaymentIntent.IsFinal("FINISHED"));
        Assert.False(StateMachines.PaymentOrder.IsFinal("CLOSED"));
    }

    [Theory]
    [InlineData(EntityKind.Transaction, "COMPLETED", "INIT", false)]
    [InlineData(EntityKind.Transaction, "INIT", "PROCESSING", true)]
    [InlineData(EntityKind.Transaction, "COMPLETED", "REFUNDED", true)]
    [InlineData(EntityKind.Transaction, "PROCESSING", "REFUNDED", false)]
    [InlineData(EntityKind.PaymentOrder, "OPENED", "REFUNDED", false)]
    [InlineData(EntityKind.PaymentOrder, "CLOSED", "REFUNDED", true)]
    [InlineData(EntityKind.PaymentIntent, "OPEN", "FINISHED", true)]
    [InlineData(EntityKind.PaymentIntent, "CANCELED", "FINISHED", false)]
    public void CanMove_FollowsTheStateMachine(EntityKind kind, string from, string to, bool allowed) =>
        Assert.Equal(allowed, StateMachines.For(kind).CanMove(from, to));

    [Fact]
    public void WithChange_SetsState_MergesNestedData_AndLeavesTheInputAlone()
    {
        var doc = new JsonObject
        {
            ["internalId"] = "t1",
            ["status"] = "INIT",
            ["customer"] = new JsonObject { ["name"] = "John", ["email"] = "j@x.test" },
        };
        var changed = EntityDocuments.WithChange(EntityKind.Transaction, doc, "COMPLETED",
            new JsonObject { ["customer"] = new JsonObject { ["email"] = "new@x.test" }, ["extra1"] = "x" }, DateTimeOffset.UnixEpoch);
        Assert.Equal("COMPLETED", changed["status"]!.GetValue<string>());
        Assert.Equal("John", changed["customer"]!["name"]!.GetValue<string>());
        Assert.Equal("new@x.test", changed["customer"]!["email"]!.GetValue<string>());
        Assert.Equal("INIT", doc["status"]!.GetValue<string>());
        Assert.Equal("j@x.test", doc["customer"]!["email"]!.GetValue<string>());
    }
}
