using Herald.Storage.Relational;

namespace Herald.Storage.Tests.Relational;

/// <summary>Which rows a stats read on SQLite walks: the merchant's log once for each range, or the ranges' attempts of every merchant.</summary>
public sealed class DeliveryStatsSourceTests
{
    [Theory]
    // A week read cold (8 ranges): 7,000 notifications walked 8 times are 56,000 rows, where the
    // week holds another merchant's 2,000,000 attempts beside the merchant's own 49,000.
    [InlineData(7_000, 2_049_000, 8, true)]
    // The same merchant alone that week: its 49,000 attempts are fewer than 56,000 rows of its log.
    [InlineData(7_000, 49_000, 8, false)]
    [InlineData(7_000, 56_000, 8, false)]
    [InlineData(7_000, 56_001, 8, true)]
    [InlineData(7_000, 49_000, 1, true)]
    [InlineData(0, 1, 8, true)]
    [InlineData(0, 0, 8, false)]
    // A log of 50,000 notifications or more is not counted further: the window is read, however large.
    [InlineData(49_999, 400_000, 8, true)]
    [InlineData(50_000, 10_000_000, 1, false)]
    [InlineData(1_000_000, 10_000, 1, false)]
    public void DeliveryStats_ReadTheMerchantsLogFirst_OnlyWhereWalkingItForEachRangeReadsFewerRowsThanTheWindow(long merchant, long inWindow, int ranges, bool merchantFirst) =>
        Assert.Equal(merchantFirst, RelationalStore.ReadsMerchantFirst(merchant, inWindow, ranges));
}
