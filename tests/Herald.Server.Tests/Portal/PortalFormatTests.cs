using Herald.Server.Portal;

namespace Herald.Server.Tests.Portal;

/// <summary>How the portal writes counts: as the notification log does, thousands marked.</summary>
public sealed class PortalFormatTests
{
    [Theory]
    [InlineData(1, "1 attempt")]
    [InlineData(4, "4 attempts")]
    [InlineData(10_205, "10,205 attempts")]
    [InlineData(1_000_000, "1,000,000 attempts")]
    public void ACount_MarksItsThousands_AndNamesOneInTheSingular(long count, string shown) =>
        Assert.Equal(shown, PortalFormat.Count(count, "attempt", "attempts"));
}
