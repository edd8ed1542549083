using System.Threading.RateLimiting;

namespace Herald.Server.Hosting;

/// <summary>
/// A token bucket whose tokens come back at a steady rate, counted from when they were spent: a
/// burst is at most <c>limit</c>, then <c>perSecond</c> a second. The runtime's own token bucket,
/// run in a partitioned limiter, is topped up on a heartbeat that leaves a full bucket's clock where
/// it was: drained after a quiet spell, it is refilled whole at the next beat, a second burst at once.
/// </summary>
internal sealed class SteadyTokenBucket : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly int _limit;
    private readonly double _perSecond;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _countedAt;
    private long _fullSince;

    public SteadyTokenBucket(int limit, double perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentNullException.ThrowIfNull(time);
        _limit = limit;
        _perSecond = perSecond;
        _time = time;
        _tokens = limit;
        _countedAt = _fullSince = time.GetTimestamp();
    }

    /// <summary>How long the bucket has been full (the partitioned limiter drops a bucket idle long enough); null while it is not.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return _tokens >= _limit ? _time.GetElapsedTime(_fullSince) : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            Refill();
            return new RateLimiterStatistics { CurrentAvailablePermits = (long)_tokens };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        lock (_lock)
        {
            Refill();
            // Asking for none says whether one would be let through now, spending nothing.
            var wanted = Math.Max(permitCount, 1);
            if (_tokens >= wanted)
            {
                _tokens -= permitCount;
                return Lease.Acquired;
            }
            return new Lease(false, TimeSpan.FromSeconds((wanted - _tokens) / _perSecond));
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = _time.GetTimestamp();
        if (_tokens < _limit)
        {
            var missing = _limit - _tokens;
            _tokens = Math.Min(_limit, _tokens + _time.GetElapsedTime(_countedAt, now).TotalSeconds * _perSecond);
            if (_tokens >= _limit)
            {
                // Full since its last token came, not since it was looked at.
                _fullSince = _countedAt + (long)(missing / _perSecond * _time.TimestampFrequency);
            }
        }
        _countedAt = now;
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name ? wait : null;
            return metadata is not null;
        }
    }
}
