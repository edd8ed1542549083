using Herald.Retry;

namespace Herald.Core.Tests.Retry;

public class RetryScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Exponential_BaseDelays_AreTheDocumentedLadder()
    {
        TimeSpan[] expected =
        [
            TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
            TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
        ];
        Assert.Equal(expected, Enumerable.Range(1, expected.Length).Select(n => RetrySchedule.BaseDelay(RetryPolicy.Exponential, n)));
    }

    [Theory]
    [InlineData(0.0, 0.8)]
    [InlineData(0.5, 1.0)]
    [InlineData(0.999999, 1.2)]
    public void Exponential_JitterStaysWithinTwentyPercent(double sample, double factor)
    {
        var next = RetrySchedule.Next(RetryPolicy.Exponential, T0, 4, T0, sample)!.Value;
        Assert.Equal(TimeSpan.FromHours(2 * factor).TotalSeconds, (next - T0).TotalSeconds, 1);
    }

    [Fact]
    public void Exponential_IsDeadOnceTheNextTryWouldPassThreeDays()
    {
        var (failures, at) = FailEveryTry(recorded: T0, firstTry: T0);
        Assert.True(at - T0 <= RetrySchedule.Window);
        Assert.True(at - T0 > RetrySchedule.Window - TimeSpan.FromHours(10));
        Assert.InRange(failures, 10, 14);
    }

    [Fact]
    public void Exponential_ANotificationOlderThanTheWindow_StillGetsTheLaddersFirstSixTries()
    {
        // Recorded four days ago for an endpoint paused since, and tried for the first time now.
        var (failures, at) = FailEveryTry(recorded: T0 - TimeSpan.FromDays(4), firstTry: T0);
        Assert.Equal(6, failures);
        Assert.Equal(new TimeSpan(7, 35, 5), at - T0);
    }

    /// <summary>An exponential schedule whose every try fails, each made when due (no jitter): how many were made, and when the last was.</summary>
    private static (int Failures, DateTimeOffset LastTry) FailEveryTry(DateTimeOffset recorded, DateTimeOffset firstTry)
    {
        var at = firstTry;
        var failures = 0;
        DateTimeOffset? next = firstTry;
        // Bounded: a schedule that never gives up fails here rather than running on.
        while (next is { } n && failures < 100)
        {
            at = n;
            failures++;
            next = RetrySchedule.Next(RetryPolicy.Exponential, recorded, failures, at, 0.5);
        }
        Assert.True(next is null, $"still retrying after {failures} tries, {at - recorded} after the notification was recorded");
        return (failures, at);
    }

    [Theory]
    // Asked for less than the schedule: the schedule stands.
    [InlineData(1, 60)]
    // Asked for more: granted.
    [InlineData(90, 90)]
    // Asked for more than twice the schedule: twice it.
    [InlineData(600, 120)]
    public void RetryAfter_IsHonouredBetweenTheScheduledDelayAndTwiceIt(int askedMinutes, int expectedMinutes)
    {
        var now = T0 + TimeSpan.FromHours(1);
        var next = RetrySchedule.HonouringRetryAfter(RetryPolicy.Exponential, T0, now, now + TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(askedMinutes));
        Assert.Equal(now + TimeSpan.FromMinutes(expectedMinutes), next);
    }

    [Fact]
    public void RetryAfter_NearTheEndOfTheExponentialWindow_IsCutToItsEnd_NeverBeforeTheSchedule()
    {
        var end = T0 + RetrySchedule.Window;
        // Failed 12 h before the end, next try scheduled 10 h on, asked for 20 h: the end instead.
        var now = end - TimeSpan.FromHours(12);
        Assert.Equal(end, RetrySchedule.HonouringRetryAfter(RetryPolicy.Exponential, T0, now, now + TimeSpan.FromHours(10), TimeSpan.FromHours(20)));
        // A scheduled try past the end is not brought forward by the cut.
        now = end - TimeSpan.FromHours(1);
        var scheduled = end + TimeSpan.FromHours(1);
        Assert.Equal(scheduled, RetrySchedule.HonouringRetryAfter(RetryPolicy.Exponential, T0, now, scheduled, TimeSpan.FromHours(5)));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(120)]
    [InlineData(600)]
    public void RetryAfter_OnAnHourlyEndpoint_KeepsTheHour(int askedMinutes)
    {
        // Seed 003: "otherwise Kibramoa system will re-send every hour", whatever the receiver asks.
        var now = T0 + TimeSpan.FromHours(5);
        var scheduled = now + TimeSpan.FromHours(1);
        Assert.Equal(scheduled, RetrySchedule.HonouringRetryAfter(RetryPolicy.Hourly, T0, now, scheduled, TimeSpan.FromMinutes(askedMinutes)));
    }

    [Fact]
    public void Hourly_IsEveryHourWithoutJitter_For72Retries()
    {
        var at = T0;
        var tries = new List<DateTimeOffset> { at };
        // Bounded: a schedule that never gives up fails the count below rather than running on.
        for (var failures = 1; failures <= 1000; failures++)
        {
            var next = RetrySchedule.Next(RetryPolicy.Hourly, T0, failures, at, 0.99);
            if (next is null)
            {
                break;
            }
            Assert.Equal(at + TimeSpan.FromHours(1), next.Value);
            at = next.Value;
            tries.Add(at);
        }
        Assert.Equal(73, tries.Count);
        Assert.Equal(T0 + TimeSpan.FromHours(72), tries[^1]);
    }
}
