using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Resends: the turns at an endpoint's gate, taken in the order asked, and work held back until its wait is over.
public sealed partial class ResendQueue
{
    // Work the endpoints' gates held back, by when its wait is over and then by its place in the
    // order work was first queued: it comes back in that order, so that what was asked for first
    // (a recover's oldest) goes first. Closed once the node stops sending.
    private readonly PriorityQueue<Work, (long Due, long Seq)> _parked = new();
    private bool _parkingClosed;

    // For each endpoint, its work held back (by place), each with the newer work of the endpoint
    // that came to its turn meanwhile and waits behind it, queued again once it has had its turn:
    // no resend to an endpoint overtakes an older one its limits or its circuit hold back. Under
    // the lock of _parked.
    private readonly Dictionary<string, SortedDictionary<long, List<Work>>> _waiting = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _parkedSooner = new(0);

    // Turns at an endpoint's gate are taken one at a time, in the order asked, for the work whose
    // endpoint is known (by stripes of endpoints): of two resends to an endpoint that lets one more
    // through, the one queued first takes it.
    private readonly SemaphoreSlim[] _turns = Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>
    /// Where a manual attempt of a notification stands: <see cref="Ready"/> (leased to it, read
    /// afresh, and let through the endpoint's gate), or to be asked again after <see cref="Wait"/>
    /// (<see cref="Busy"/>: another attempt of it is under way; otherwise the gate holds it back,
    /// <see cref="HeldBack"/> the notification as read then), or neither: nothing to send (gone, or
    /// a recover's that has succeeded by its turn). <see cref="Behind"/>: queued work put behind older
    /// work of its endpoint held back, asked nothing.
    /// </summary>
    private readonly record struct Turn(ClaimedNotification? Ready, TimeSpan? Wait, bool Busy = false, ClaimedNotification? HeldBack = null, bool Behind = false);

    private SemaphoreSlim TurnsOf(string endpointId) => StripeOf(_turns, endpointId);

    /// <summary>
    /// The turn of queued work's next notification (<c>Done</c>). Taken one at a time for an
    /// endpoint, so that what it decides holds for the next: the work takes back from among its
    /// endpoint's held-back work what waited behind it; it waits behind older work of its endpoint
    /// held back (<see cref="Turn.Behind"/>), with what waited behind it; held back by the gate,
    /// it is put aside until its wait is over, and what waited behind it with it; otherwise (or
    /// when only another attempt of the same notification holds it back) what waited behind it
    /// goes on, the oldest first.
    /// </summary>
    private async Task<Turn> QueuedTurnAsync(Work work, CancellationToken cancellationToken)
    {
        var request = work.Request;
        var endpointId = work.HeldBack?.EndpointId ?? work.EndpointId;
        var turns = endpointId is null ? null : TurnsOf(endpointId);
        List<Work>? behind = null;
        try
        {
            if (turns is not null)
            {
                await turns.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            try
            {
                behind = Unpark(work);
                if (WaitsBehind(work with { EndpointId = endpointId }, behind))
                {
                    return new Turn(null, null, Behind: true);
                }
                var turn = await TakeTurnAsync(request.MerchantId, request.NotificationIds[request.Done], request.OnlyFailed, work.HeldBack, cancellationToken).ConfigureAwait(false);
                var handedOn = behind;
                behind = null;
                if (turn.Wait is { } wait)
                {
                    var heldBack = work with { HeldBack = turn.HeldBack, EndpointId = endpointId ?? turn.HeldBack?.EndpointId };
                    if (turn.Busy)
                    {
                        // Another attempt of this notification is under way: nothing about its endpoint, so the rest go on.
                        QueueAll(handedOn, work.HeldBack);
                        Requeue(heldBack, wait, behind: null, guard: false);
                    }
                    else
                    {
                        Requeue(heldBack, wait, handedOn, guard: true);
                    }
                    return turn;
                }
                QueueAll(handedOn, turn.Ready ?? work.HeldBack);
                return turn;
            }
            finally
            {
                turns?.Release();
            }
        }
        catch
        {
            QueueAll(behind);
            throw;
        }
    }

    /// <summary>Whether older work of the endpoint is held back: then the work (and what waited behind it) waits behind that.</summary>
    private bool WaitsBehind(Work work, List<Work>? behind)
    {
        if (work.EndpointId is not { } endpointId)
        {
            return false;
        }
        lock (_parked)
        {
            if (_parkingClosed || !_waiting.TryGetValue(endpointId, out var held))
            {
                return false;
            }
            List<Work>? older = null;
            foreach (var (seq, waiting) in held)
            {
                if (seq >= work.Seq)
                {
                    break;
                }
                older = waiting;
            }
            if (older is null)
            {
                return false;
            }
            older.Add(work);
            older.AddRange(behind ?? []);
            return true;
        }
    }

    /// <summary>Takes work back from among its endpoint's held back as its turn comes again: answers what waited behind it.</summary>
    private List<Work>? Unpark(Work work)
    {
        if (work.EndpointId is not { } endpointId)
        {
            return null;
        }
        lock (_parked)
        {
            if (!_waiting.TryGetValue(endpointId, out var held) || !held.Remove(work.Seq, out var behind))
            {
                return null;
            }
            if (held.Count == 0)
            {
                _waiting.Remove(endpointId);
            }
            return behind;
        }
    }

    /// <summary>
    /// Queues again the work that waited behind work that has had its turn: the oldest, the rest
    /// waiting behind it (so that nothing newer of their endpoint overtakes them meanwhile). What
    /// was not read yet is shown to the gate as <paramref name="sameEndpoint"/>, a notification of
    /// its endpoint (the gate decides by the endpoint alone), so that asking again whether the
    /// endpoint lets it through writes nothing.
    /// </summary>
    private void QueueAll(List<Work>? behind, ClaimedNotification? sameEndpoint = null)
    {
        if (behind is null or [])
        {
            return;
        }
        var ordered = behind.OrderBy(w => w.Seq)
            .Select(w => w.HeldBack is null && sameEndpoint?.EndpointId == w.EndpointId ? w with { HeldBack = sameEndpoint } : w)
            .ToList();
        var first = ordered[0];
        lock (_parked)
        {
            if (!_parkingClosed && first.EndpointId is { } endpointId)
            {
                Guard(endpointId, first.Seq, ordered[1..]);
                ordered = [first];
            }
        }
        foreach (var work in ordered)
        {
            Queue(work);
        }
    }

    /// <summary>Notes work of the endpoint as held back, with what waits behind it. Under the lock of <see cref="_parked"/>.</summary>
    private void Guard(string endpointId, long seq, List<Work> behind)
    {
        if (!_waiting.TryGetValue(endpointId, out var held))
        {
            _waiting[endpointId] = held = [];
        }
        held[seq] = behind;
    }

    /// <summary>
    /// Takes a notification for its manual attempt: first its lease, so that no other attempt of it
    /// runs beside this one (an attempt under way is let finish first), then the endpoint's gate (its
    /// concurrency cap, its rate limit, its circuit), whose entry the attempt gives back when it ends.
    /// A lease the gate does not let through is let go; asked again with what was read then
    /// (<paramref name="heldBack"/>), the gate is shown that first (<see cref="EndpointGate.CouldEnter"/>),
    /// so that waiting on the endpoint's limits writes nothing.
    /// </summary>
    private async Task<Turn> TakeTurnAsync(string merchantId, string id, bool onlyFailed, ClaimedNotification? heldBack, CancellationToken cancellationToken)
    {
        if (heldBack is not null && !_gate.CouldEnter(heldBack, out var notYet))
        {
            return new Turn(null, notYet, HeldBack: heldBack);
        }
        var now = _time.GetUtcNow();
        var lease = await _store.LeaseForResendAsync(merchantId, id, Guid.NewGuid().ToString("N"), now, now + _lease, cancellationToken).ConfigureAwait(false);
        if (lease.Notification is not { } leased)
        {
            return lease.HeldUntil is { } heldUntil ? new Turn(null, BusyWait(heldUntil - now), Busy: true) : default;
        }
        if (onlyFailed && leased.Status == NotificationStatuses.Succeeded)
        {
            await ReleaseLeaseQuietlyAsync(leased).ConfigureAwait(false);
            DeliveryLog.Resent(_logger, id, "succeeded before its turn; not sent again");
            return default;
        }
        // Its attempt ends before its lease does, as a scheduled one's.
        leased = DeliveryWorker.FitToLease(leased, _lease);
        if (_gate.TryEnter(leased, out var wait))
        {
            return new Turn(leased, null);
        }
        await ReleaseLeaseQuietlyAsync(leased).ConfigureAwait(false);
        return new Turn(null, wait, HeldBack: leased);
    }

    /// <summary>How long a manual attempt waits before asking again for a notification another attempt holds: that attempt usually ends well before its lease.</summary>
    private static TimeSpan BusyWait(TimeSpan leaseLeft) =>
        TimeSpan.FromMilliseconds(Math.Clamp(leaseLeft.TotalMilliseconds, 10, 250));

    /// <summary>
    /// Puts work held back (by the gate, or by another attempt of its notification) at the queue's
    /// end once its wait is over (real time, as the gate counts it): see <see cref="ReturnParkedAsync"/>.
    /// </summary>
    private void Requeue(Work work, TimeSpan wait, List<Work>? behind, bool guard)
    {
        lock (_parked)
        {
            if (!_parkingClosed)
            {
                var due = Environment.TickCount64 + (long)Math.Ceiling(wait.TotalMilliseconds);
                var sooner = !_parked.TryPeek(out _, out var first) || due < first.Due;
                _parked.Enqueue(work, (due, work.Seq));
                if (guard && work.EndpointId is { } endpointId)
                {
                    Guard(endpointId, work.Seq, behind ?? []);
                }
                if (sooner)
                {
                    _parkedSooner.Release();
                }
                return;
            }
        }
        // The node is stopping: the resends stay kept, handed back for the next node to send.
        foreach (var left in (behind ?? []).Append(work))
        {
            _room.Give(left.Request.MerchantId, left.Left);
        }
    }

    /// <summary>
    /// Returns held-back work to the queue as its waits end: those whose waits ended by the time it
    /// looks go in the order they were first queued, whatever order they were held back in.
    /// Once the node stops, what is still held back stays kept, handed back for the next node to send.
    /// </summary>
    private async Task ReturnParkedAsync(CancellationToken stoppingToken)
    {
        var due = new List<Work>();
        try
        {
            while (true)
            {
                TimeSpan sleep;
                lock (_parked)
                {
                    var now = Environment.TickCount64;
                    while (_parked.TryPeek(out _, out var at) && at.Due <= now)
                    {
                        due.Add(_parked.Dequeue());
                    }
                    sleep = _parked.TryPeek(out _, out var next) ? TimeSpan.FromMilliseconds(next.Due - now) : Timeout.InfiniteTimeSpan;
                }
                due.Sort((a, b) => a.Seq.CompareTo(b.Seq));
                foreach (var work in due)
                {
                    Queue(work);
                }
                due.Clear();
                await _parkedSooner.WaitAsync(sleep, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_parked)
            {
                _parkingClosed = true;
                var left = _waiting.Values.SelectMany(held => held.Values).SelectMany(behind => behind).ToList();
                while (_parked.TryDequeue(out var work, out _))
                {
                    left.Add(work);
                }
                _waiting.Clear();
                foreach (var work in left)
                {
                    _room.Give(work.Request.MerchantId, work.Left);
                }
            }
        }
    }
}
