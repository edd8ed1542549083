using Herald.Entities;

namespace Herald.Core.Tests;

public class StateMachineTests
{
    [Fact]
    public void Transaction_AcceptsSeedSpellingDecined_AsDeclined()
    {
        Assert.True(StateMachines.Transaction.TryNormalize("DECINED", out var state));
        Assert.Equal("DECLINED", state);
    }
}
