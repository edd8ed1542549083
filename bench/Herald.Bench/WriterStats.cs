using System.Diagnostics.Metrics;
using Herald.Delivery.Workers;

namespace Herald.Bench;

/// <summary>
/// The node's group-commit transactions during a phase, from its own metrics: how many, how many
/// changes and attempt outcomes each held, and the share of the phase they took (on SQLite, one
/// writer: how busy it was).
/// </summary>
internal sealed class WriterStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _writes;
    private long _changes;
    private long _outcomes;
    private double _seconds;

    public WriterStats()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DeliveryMetrics.MeterName && instrument.Name is "herald.store.write.size" or "herald.store.write.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var kind = tags.Length > 0 ? tags[0].Value as string : null;
            Interlocked.Add(ref kind == "change" ? ref _changes : ref _outcomes, value);
        });
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (_listener)
            {
                _writes++;
                _seconds += value;
            }
        });
        _listener.Start();
    }

    /// <summary>The figures so far, for a phase that lasted <paramref name="phaseSeconds"/>.</summary>
    public (long Writes, double ItemsPerWrite, double MeanMs, double BusyShare) Figures(double phaseSeconds)
    {
        lock (_listener)
        {
            var items = Interlocked.Read(ref _changes) + Interlocked.Read(ref _outcomes);
            return _writes == 0
                ? (0, double.NaN, double.NaN, double.NaN)
                : (_writes, (double)items / _writes, _seconds * 1000 / _writes, phaseSeconds > 0 ? _seconds / phaseSeconds : double.NaN);
        }
    }

    public void Dispose() => _listener.Dispose();
}
