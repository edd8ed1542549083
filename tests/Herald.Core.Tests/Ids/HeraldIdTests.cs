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
    [InlineData(86_400_000)]
    [InlineData(100L * 365 * 86_400_000)]
    public void Floor_OfATimeBefore1970_SortsAtOrBelowEveryId(long beforeMs)
    {
        var floor = HeraldId.Floor(HeraldId.Notification, DateTimeOffset.UnixEpoch.AddMilliseconds(-beforeMs));
        Assert.Equal(HeraldId.Floor(HeraldId.Notification, DateTimeOffset.UnixEpoch), floor);
        Assert.True(string.CompareOrdinal(HeraldId.New(HeraldId.Notification, new FixedTime(DateTimeOffset.UnixEpoch)), floor) >= 0);
        Assert.True(string.CompareOrdinal(HeraldId.New(HeraldId.Notification, new FixedTime(Epoch)), floor) > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    [InlineData(86_400_000)]
    public void Floor_SortsAboveEveryIdMadeBefore_AndNotAboveAnyMadeAtOrAfter(long byMs)
    {
        var floor = HeraldId.Floor(HeraldId.Notification, Epoch);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(string.CompareOrdinal(HeraldId.New(HeraldId.Notification, new FixedTime(Epoch.AddMilliseconds(-byMs))), floor) < 0);
            Assert.True(string.CompareOrdinal(HeraldId.New(HeraldId.Notification, new FixedTime(Epoch)), floor) >= 0);
            Assert.True(string.CompareOrdinal(HeraldId.New(HeraldId.Notification, new FixedTime(Epoch.AddMilliseconds(byMs))), floor) > 0);
        }
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
    public void New_IdsMadeInOneMillisecond_SortInTheOrderTheyWereMade()
    {
        var time = new FixedTime(Epoch);

        var ids = Enumerable.Range(0, 1_000).Select(_ => HeraldId.New(HeraldId.Event, time)).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.True(string.CompareOrdinal(ids[^1], HeraldId.New(HeraldId.Event, new FixedTime(Epoch.AddMilliseconds(1)))) < 0);
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
        var ids = Enumerable.Range(0, 1_000).Select(_ => HeraldId.NewOpaque(TimeProvider.System)).ToList();

        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9]{18}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NewOpaque_MadeLater_SortsLater_AsTextInByteOrder()
    {
        // Milliseconds a step apart across the ranges where a base-62 digit carries (9 -> A, Z -> a, z -> 10).
        var times = new[] { 0L, 9, 10, 35, 36, 61, 62, 3_843, 3_844, 1_000_000, 1_764_000_000_000, 1_764_000_000_001, 4_102_444_800_000 };
        var ids = times.Select(ms => HeraldId.NewOpaque(new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(ms)))).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Select(id => id[..8]).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NewOpaque_AtOneMillisecond_DiffersInItsRandomPart()
    {
        var time = new FixedTime(Epoch);
        var ids = Enumerable.Range(0, 10_000).Select(_ => HeraldId.NewOpaque(time)).ToList();

        Assert.Single(ids.Select(id => id[..8]).Distinct(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NewUuid_IsAVersion7UuidInTheSeedsForm_AndMadeLaterSortsLater()
    {
        var ids = Enumerable.Range(0, 100).Select(i => HeraldId.NewUuid(new FixedTime(Epoch.AddMilliseconds(i)))).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        // The first 48 bits are the creation's millisecond, as RFC 9562 lays them out.
        Assert.All(ids.Select((id, i) => (id, i)), x => Assert.Equal(
            Epoch.AddMilliseconds(x.i).ToUnixTimeMilliseconds().ToString("x12", System.Globalization.CultureInfo.InvariantCulture),
            x.id.Replace("-", "", StringComparison.Ordinal)[..12]));
        Assert.All(ids, id => Assert.Equal(7, Guid.Parse(id).Version));
    }

    [Fact]
    public void NewUuid_MadeInTheSameMillisecond_AreDistinct()
    {
        var time = new FixedTime(Epoch);
        var ids = Enumerable.Range(0, 10_000).Select(_ => HeraldId.NewUuid(time)).ToList();

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
