using Herald.Ids;

namespace Herald.Core.Tests.Ids;

public class HeraldIdTests
{
    private static readonly DateTimeOffset Epoch = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(HeraldId.Event)]
    [InlineData(HeraldId.Endpoint)]
    [InlineData(HeraldId.Notification)]
    [InlineData(HeraldId.Merchant)]
    [InlineData(HeraldId.CheckoutPreference)]
    public void New_StartsWithPrefixAndUnderscore(string prefix)
    {
        var id = HeraldId.New(prefix, new FixedTime(Epoch));

        Assert.StartsWith(prefix + "_", id, StringComparison.Ordinal);
        Assert.Equal(prefix.Length + 1 + 26, id.Length);
        Assert.Matches("^[0-9a-z]+$", id[(prefix.Length + 1)..]);
        Assert.True(HeraldId.HasPrefix(id, prefix));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    [InlineData(86_400_000)]
    [InlineData(31_536_000_000)]
    public void New_AtLaterTime_SortsAfterEarlierIds(long laterByMs)
    {
        var earlier = Enumerable.Range(0, 50).Select(_ => HeraldId.New(HeraldId.Event, new FixedTime(Epoch))).ToList();
        var later = Enumerable.Range(0, 50).Select(_ => HeraldId.New(HeraldId.Event, new FixedTime(Epoch.AddMilliseconds(laterByMs)))).ToList();

        Assert.All(later, l => Assert.All(earlier, e => Assert.True(string.CompareOrdinal(e, l) < 0, $"{e} should sort before {l}")));
    }

    [Fact]
    public void New_IdsMadeOverTime_SortInCreationOrder()
    {
        var times = Enumerable.Range(0, 500).Select(i => Epoch.AddMilliseconds(i * 37L)).ToList();
        var ids = times.Select(t => HeraldId.New(HeraldId.Notification, new FixedTime(t))).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void New_TenThousandAtTheSameMillisecond_AreUnique()
    {
        var time = new FixedTime(Epoch);

        var ids = Enumerable.Range(0, 10_000).Select(_ => HeraldId.New(HeraldId.Event, time)).ToList();

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task New_OnEightThreadsAtTheSameMillisecond_AreUnique()
    {
        var time = new FixedTime(Epoch);

        var perThread = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 5_000).Select(_ => HeraldId.New(HeraldId.Attempt, time)).ToList())));

        var ids = perThread.SelectMany(list => list).ToList();
        Assert.Equal(40_000, ids.Distinct(StringComparer.Ordinal).Count());
        // Every random character is used: the random part is not stuck on a few values.
        Assert.Equal(32, ids.SelectMany(id => id[^16..]).Distinct().Count());
    }

    [Theory]
    [InlineData("ep_01jx", "ep", true)]
    [InlineData("evt_01jx", "ep", false)]
    [InlineData("ep01jx", "ep", false)]
    [InlineData("ep_", "ep", false)]
    [InlineData(null, "ep", false)]
    public void HasPrefix_RequiresPrefixUnderscoreAndBody(string? id, string prefix, bool expected)
    {
        Assert.Equal(expected, HeraldId.HasPrefix(id, prefix));
    }

    [Fact]
    public void NewOpaque_LooksLikeSeedIds()
    {
        var ids = Enumerable.Range(0, 1_000).Select(_ => HeraldId.NewOpaque()).ToList();

        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9]{18}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
