using System.Diagnostics.Metrics;

namespace Herald.Delivery.Workers;

/// <summary>Delivery metrics, one meter (<see cref="MeterName"/>), exported at /metrics.</summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "Herald.Delivery";

    private readonly Counter<long> _attempts;
    private readonly Counter<long> _dead;
    private readonly Histogram<double> _latency;
    private long _pending;
    private double _oldestPendingSeconds;

    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _attempts = meter.CreateCounter<long>("herald.attempts", "{attempt}", "HTTP attempts, by outcome and trigger");
        _dead = meter.CreateCounter<long>("herald.notifications.dead", "{notification}", "Notifications whose retries ran out");
        _latency = meter.CreateHistogram<double>("herald.delivery.latency", "s", "From recording a change to its successful delivery");
        meter.CreateObservableGauge("herald.queue.depth", () => Interlocked.Read(ref _pending), "{notification}", "Pending notifications");
        meter.CreateObservableGauge("herald.queue.oldest_age", () => Volatile.Read(ref _oldestPendingSeconds), "s", "Age of the oldest pending notification");
    }

    public void Attempted(bool succeeded, string trigger)
    {
        if (_attempts.Enabled)
        {
            _attempts.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"), new KeyValuePair<string, object?>("trigger", trigger));
        }
    }

    public void Dead() => _dead.Add(1);

    public void Delivered(TimeSpan sinceRecorded)
    {
        if (_latency.Enabled)
        {
            _latency.Record(Math.Max(0, sinceRecorded.TotalSeconds));
        }
    }

    public void Queue(long pending, TimeSpan oldestAge)
    {
        Interlocked.Exchange(ref _pending, pending);
        Volatile.Write(ref _oldestPendingSeconds, Math.Max(0, oldestAge.TotalSeconds));
    }
}
