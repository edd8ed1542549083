using System.Diagnostics.Metrics;

namespace Herald.Delivery.Workers;

/// <summary>Delivery metrics, one meter (<see cref="MeterName"/>), exported at /metrics.</summary>
public sealed class DeliveryMetrics
{
    public const string MeterName = "Herald.Delivery";

    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _latency;
    private readonly Histogram<long> _writeSize;
    private readonly Histogram<double> _writeDuration;
    private long _dead;
    private long _pending;
    private double _oldestPendingSeconds;
    private int _databaseUp; // 0 until the first sample says otherwise
    private Func<int>? _resendsWaiting;

    public DeliveryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _attempts = meter.CreateCounter<long>("herald.attempts", "{attempt}", "HTTP attempts, by outcome and trigger");
        // Observed, not counted as it happens: a scrape shows it (at 0) before the first notification dies.
        meter.CreateObservableCounter("herald.notifications.dead", () => Interlocked.Read(ref _dead), "{notification}", "Notifications whose retries ran out");
        // From milliseconds (delivered at once) to the days a retry schedule runs for.
        _latency = meter.CreateHistogram<double>("herald.delivery.latency", "s", "From recording a change to its first successful delivery, by a scheduled attempt or a manual one",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600],
            });
        _writeSize = meter.CreateHistogram<long>("herald.store.write.size", "{item}", "Changes and attempt outcomes written in one transaction (group commit)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _writeDuration = meter.CreateHistogram<double>("herald.store.write.duration", "s", "One group-commit transaction, from its start to its commit",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1] });
        meter.CreateObservableGauge("herald.queue.depth", () => Interlocked.Read(ref _pending), "{notification}", "Pending notifications");
        meter.CreateObservableGauge("herald.queue.oldest_age", () => Volatile.Read(ref _oldestPendingSeconds), "s", "Age of the oldest pending notification");
        // The queue's figures keep their last values while the database is away: this says whether they are current.
        meter.CreateObservableGauge("herald.database.up", () => Volatile.Read(ref _databaseUp), null,
            "1 when the database answered the last queue sample (every 15 s); 0 before the first, and while it did not answer, answered read-only, lost its SQLite file, or refused writes (disk full, read-only) until one commits again: the queue's figures are then the last it gave");
        meter.CreateObservableGauge("herald.resends.waiting", () => Volatile.Read(ref _resendsWaiting)?.Invoke() ?? 0, "{resend}", "Manual resends this node holds, waiting or being sent");
    }

    public void Attempted(bool succeeded, string trigger)
    {
        if (_attempts.Enabled)
        {
            _attempts.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"), new KeyValuePair<string, object?>("trigger", trigger));
        }
    }

    public void Dead() => Interlocked.Increment(ref _dead);

    public void Delivered(TimeSpan sinceRecorded)
    {
        if (_latency.Enabled)
        {
            _latency.Record(Math.Max(0, sinceRecorded.TotalSeconds));
        }
    }

    /// <summary>A group-commit transaction written: how many changes and outcomes it held, and how long it took.</summary>
    public void Written(int changes, int outcomes, TimeSpan took)
    {
        if (_writeSize.Enabled)
        {
            // Each kind counted in the transactions that held some of it: its _count says how many
            // did, its _sum how many items, and neither is diluted by transactions without any.
            if (changes > 0)
            {
                _writeSize.Record(changes, new KeyValuePair<string, object?>("kind", "change"));
            }
            if (outcomes > 0)
            {
                _writeSize.Record(outcomes, new KeyValuePair<string, object?>("kind", "outcome"));
            }
        }
        if (_writeDuration.Enabled)
        {
            _writeDuration.Record(took.TotalSeconds);
        }
    }

    /// <summary>Where the resends waiting on this node are counted.</summary>
    public void ObserveResends(Func<int> waiting) => Volatile.Write(ref _resendsWaiting, waiting);

    /// <summary>Whether the database answered the queue's last sample.</summary>
    public void DatabaseAnswered(bool up) => Volatile.Write(ref _databaseUp, up ? 1 : 0);

    public void Queue(long pending, TimeSpan oldestAge)
    {
        Interlocked.Exchange(ref _pending, pending);
        Volatile.Write(ref _oldestPendingSeconds, Math.Max(0, oldestAge.TotalSeconds));
    }
}
