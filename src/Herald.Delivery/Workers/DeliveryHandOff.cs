using System.Collections.Concurrent;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

/// <summary>
/// The short way from recording to sending on one node: while this node's workers run and keep
/// up, the notifications it records are written already leased to it and handed to its workers
/// here, so they are sent without being claimed from the database. What is handed over and never
/// sent (a crash) falls due for any node when the lease ends.
/// </summary>
public sealed class DeliveryHandOff
{
    private readonly ConcurrentQueue<LeasedNotification> _queue = new();
    private readonly DeliverySignal _signal;
    private volatile bool _open;
    private int _capacity;
    private TimeSpan _lease;

    public DeliveryHandOff(DeliverySignal signal) => _signal = signal;

    /// <summary>Whether new notifications should be written leased to this node: its workers run and have room.</summary>
    public bool Accepting => _open && _queue.Count < _capacity;

    /// <summary>How long a handed-over notification stays leased.</summary>
    public TimeSpan Lease => _lease;

    /// <summary>Opened by the workers when they start; at most <paramref name="capacity"/> wait here at once.</summary>
    internal void Open(int capacity, TimeSpan lease)
    {
        _capacity = capacity;
        _lease = lease;
        _open = true;
    }

    /// <summary>Closed by the workers when they stop: answers what was handed over and not taken.</summary>
    internal List<LeasedNotification> Close()
    {
        _open = false;
        return Take(int.MaxValue);
    }

    /// <summary>Hands over notifications just committed under a lease, and wakes the workers.</summary>
    public void Add(IEnumerable<LeasedNotification> notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        foreach (var n in notifications)
        {
            _queue.Enqueue(n);
        }
        _signal.Wake();
    }

    /// <summary>Takes up to <paramref name="limit"/> handed-over notifications, oldest first.</summary>
    internal List<LeasedNotification> Take(int limit)
    {
        var taken = new List<LeasedNotification>(Math.Min(limit, _queue.Count));
        while (taken.Count < limit && _queue.TryDequeue(out var n))
        {
            taken.Add(n);
        }
        return taken;
    }
}
