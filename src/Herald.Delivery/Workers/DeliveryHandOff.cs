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
    private readonly Queue<LeasedNotification> _queue = new();
    private readonly Lock _lock = new();
    private readonly DeliverySignal _signal;
    private bool _open;
    private int _capacity;
    private TimeSpan _lease;

    public DeliveryHandOff(DeliverySignal signal) => _signal = signal;

    /// <summary>How long a handed-over notification stays leased.</summary>
    public TimeSpan Lease => _lease;

    /// <summary>How many wait to be taken.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="count"/> more notifications may be written leased to this node: its workers run and have room for them.</summary>
    public bool HasRoomFor(int count)
    {
        lock (_lock)
        {
            return _open && _queue.Count + count <= _capacity;
        }
    }

    /// <summary>Opened by the workers when they start; at most <paramref name="capacity"/> wait here at once.</summary>
    internal void Open(int capacity, TimeSpan lease)
    {
        lock (_lock)
        {
            _capacity = capacity;
            _lease = lease;
            _open = true;
        }
    }

    /// <summary>Closed by the workers when they stop: answers what was handed over and not taken.</summary>
    internal List<LeasedNotification> Close()
    {
        lock (_lock)
        {
            _open = false;
            var left = _queue.ToList();
            _queue.Clear();
            return left;
        }
    }

    /// <summary>
    /// Hands over notifications just committed under a lease, and wakes the workers; false (and
    /// nothing kept) once the workers have stopped: the caller then hands the leases back.
    /// </summary>
    public bool Add(IReadOnlyCollection<LeasedNotification> notifications)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        lock (_lock)
        {
            if (!_open)
            {
                return false;
            }
            foreach (var n in notifications)
            {
                _queue.Enqueue(n);
            }
        }
        _signal.Wake();
        return true;
    }

    /// <summary>Takes up to <paramref name="limit"/> handed-over notifications, oldest first.</summary>
    internal List<LeasedNotification> Take(int limit)
    {
        lock (_lock)
        {
            var taken = new List<LeasedNotification>(Math.Min(limit, _queue.Count));
            while (taken.Count < limit && _queue.TryDequeue(out var n))
            {
                taken.Add(n);
            }
            return taken;
        }
    }
}
