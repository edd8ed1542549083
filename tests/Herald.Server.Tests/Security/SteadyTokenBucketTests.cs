using System.Threading.RateLimiting;
using Herald.Server.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Security;

/// <summary>The rate limit's bucket: a burst is the burst, then the rate, however long it sat full.</summary>
public sealed class SteadyTokenBucketTests
{
    private static int Take(RateLimiter bucket, int tries) =>
        Enumerable.Range(0, tries).Count(_ => { using var lease = bucket.AttemptAcquire(); return lease.IsAcquired; });

    [Fact]
    public void AfterAQuietSpell_ABurstIsTheLimit_ThenTokensComeBackAtTheRate()
    {
        var clock = new FakeTimeProvider();
        using var bucket = new SteadyTokenBucket(10, 5, clock);
        Assert.Equal(10, Take(bucket, 40));
        for (var round = 0; round < 3; round++)
        {
            clock.Advance(TimeSpan.FromSeconds(4));
            Assert.Equal(10, Take(bucket, 40));
            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal(0, Take(bucket, 40));
            clock.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal(1, Take(bucket, 40));
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(5, Take(bucket, 40));
        }
    }

    [Fact]
    public void ARefusal_SaysWhenTheNextTokenComes_AndIdleIsCountedFromFull()
    {
        var clock = new FakeTimeProvider();
        using var bucket = new SteadyTokenBucket(2, 4, clock);
        Assert.NotNull(bucket.IdleDuration);
        Assert.Equal(2, Take(bucket, 2));
        Assert.Null(bucket.IdleDuration);
        using var refused = bucket.AttemptAcquire();
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var wait));
        Assert.Equal(TimeSpan.FromMilliseconds(250), wait);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(500), bucket.IdleDuration);
        Assert.Equal(2, bucket.GetStatistics()!.CurrentAvailablePermits);
    }
}
