using Herald.Delivery.Health;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Delivery: what the loop has claimed or been handed, waiting for a slot or its endpoint's turn, and what it hands back.
public sealed partial class DeliveryWorker
{
    /// <summary>
    /// Moves claimed notifications waiting for a slot into <paramref name="work"/> until it holds
    /// <paramref name="upTo"/>. One that waited so long that its lease no longer covers an attempt
    /// at its endpoint's timeout (with the margin) is added to the answer
    /// (with <paramref name="expired"/>, those found before), to be handed back.
    /// </summary>
    private List<(string Id, string LeaseToken)>? TakeReady(
        Queue<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> ready, List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> work, int upTo, DateTimeOffset now,
        List<(string Id, string LeaseToken)>? expired = null)
    {
        while (work.Count < upTo && ready.TryDequeue(out var next))
        {
            if (LeaseCovers(next.Notification, next.ClaimedAt, now))
            {
                work.Add(next);
            }
            else
            {
                (expired ??= []).Add((next.Notification.Id, next.Notification.LeaseToken!));
            }
        }
        return expired;
    }

    /// <summary>
    /// Whether a notification taken at <paramref name="claimedAt"/> may still be sent under its
    /// lease: the lease's slack beyond an attempt and the margin; under a lease too short for the
    /// margin (its attempts cut to fit), half of what the attempt leaves of it.
    /// </summary>
    private bool LeaseCovers(ClaimedNotification notification, DateTimeOffset claimedAt, DateTimeOffset now)
    {
        var timeout = TimeSpan.FromSeconds(notification.TimeoutSeconds);
        var slack = _options.Lease - timeout - LeaseMargin;
        var halfLeft = (_options.Lease - timeout) / 2;
        return now - claimedAt <= (slack > halfLeft ? slack : halfLeft);
    }

    /// <summary>
    /// Moves into <paramref name="work"/>, until it holds <paramref name="upTo"/>, what waits for its
    /// endpoint's attempts and may go now (one of them has ended); what its lease no longer covers
    /// is added to the answer, to be handed back. The rest keeps waiting, in order.
    /// </summary>
    private List<(string Id, string LeaseToken)>? TakeWaiting(
        List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> waiting, List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> work, int upTo, DateTimeOffset now)
    {
        List<(string Id, string LeaseToken)>? expired = null;
        // Each endpoint's places free now, less those this pass has filled: no more is taken than can go.
        Dictionary<string, int>? taken = null;
        var kept = 0;
        for (var i = 0; i < waiting.Count; i++)
        {
            var next = waiting[i];
            var endpointId = next.Notification.EndpointId;
            if (!LeaseCovers(next.Notification, next.ClaimedAt, now))
            {
                (expired ??= []).Add((next.Notification.Id, next.Notification.LeaseToken!));
            }
            else if (work.Count < upTo && (taken?.GetValueOrDefault(endpointId) ?? 0) < _gate.PlacesFree(next.Notification))
            {
                work.Add(next);
                taken ??= new(StringComparer.Ordinal);
                taken[endpointId] = taken.GetValueOrDefault(endpointId) + 1;
            }
            else
            {
                waiting[kept++] = next;
                continue;
            }
            if (_waitingFor.AddOrUpdate(endpointId, 0, (_, n) => n - 1) <= 0)
            {
                _waitingFor.TryRemove(endpointId, out _);
            }
        }
        waiting.RemoveRange(kept, waiting.Count - kept);
        return expired;
    }

    /// <summary>
    /// Whether a notification its endpoint's cap or window holds back may wait in memory: under four
    /// times what they let be under way for that endpoint and half the node's slots (the rest for
    /// other endpoints: one whose receiver hangs holds what waits for it until its leases run out),
    /// and the node's slots' worth in all.
    /// </summary>
    private bool MayWait(List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> waiting, ClaimedNotification notification) =>
        waiting.Count < _options.MaxConcurrency
        && (_waitingFor.TryGetValue(notification.EndpointId, out var count) ? count : 0) < Math.Min(4L * _gate.LimitOf(notification), Math.Max(1, _options.MaxConcurrency / 2));

    /// <summary>One of the endpoint's attempts has ended: the loop is woken when something waits for it.</summary>
    private void SlotFreed(string endpointId)
    {
        if (_waitingFor.ContainsKey(endpointId))
        {
            _signal.Wake();
        }
    }

    /// <summary>Notes what was taken, so that shutdown hands it back should it not be sent by then.</summary>
    private void Hold(Dictionary<string, string> inHand, IEnumerable<(string Id, string LeaseToken)> taken)
    {
        foreach (var (id, leaseToken) in taken)
        {
            inHand[id] = leaseToken;
            _held[id] = leaseToken;
        }
    }

    private Task ReleaseAsync(Dictionary<string, string> inHand, List<(string Id, string LeaseToken)> claims, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        ReleaseAsync(inHand, claims.Select(c => (c.Id, c.LeaseToken, dueAt)).ToList(), cancellationToken);

    /// <summary>The finest a claim for held-back work is timed: those falling due within it share one claim.</summary>
    private static readonly TimeSpan HeldBackWake = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Notes when held-back notifications fall due (a backlog's turns reach up to the gate's
    /// horizon, and each is claimed when it comes rather than all at the next poll, most of them
    /// then held back again): at most one entry per <see cref="HeldBackWake"/> of that horizon.
    /// </summary>
    private static void NoteHeldBack(SortedSet<long> heldDue, List<(string Id, string LeaseToken, DateTimeOffset DueAt)> heldBack, DateTimeOffset now)
    {
        var step = (long)HeldBackWake.TotalMilliseconds;
        foreach (var (_, _, dueAt) in heldBack)
        {
            if (dueAt - now <= EndpointGate.TurnHorizon + HeldBackWake)
            {
                var ms = dueAt.ToUnixTimeMilliseconds();
                heldDue.Add((ms + step - 1) / step * step);
            }
        }
    }

    /// <summary>Hands claims back to the queue, each due at its time: no longer this node's to send or release.</summary>
    private async Task ReleaseAsync(Dictionary<string, string> inHand, List<(string Id, string LeaseToken, DateTimeOffset DueAt)> claims, CancellationToken cancellationToken)
    {
        await _store.ReleaseAsync(claims, cancellationToken).ConfigureAwait(false);
        foreach (var (id, _, _) in claims)
        {
            inHand.Remove(id);
            _held.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// An attempt ends before its claim does: past the lease another node may claim the notification
    /// and send it beside the attempt still running. A lease set shorter than an endpoint's timeout
    /// (plus a margin) cuts that endpoint's attempts to fit inside it.
    /// </summary>
    private ClaimedNotification FitToLease(ClaimedNotification notification) => FitToLease(notification, _options.Lease);

    /// <summary>The notification with its attempt's timeout cut to end inside <paramref name="lease"/> (with a margin), a manual attempt's too.</summary>
    internal static ClaimedNotification FitToLease(ClaimedNotification notification, TimeSpan lease)
    {
        var room = Math.Max(1, (int)(lease - LeaseMargin).TotalSeconds);
        return notification.TimeoutSeconds <= room
            ? notification
            : notification with { TimeoutSeconds = room, TimeoutCutFrom = notification.TimeoutCutFrom ?? notification.TimeoutSeconds };
    }

    /// <summary>
    /// Makes what was handed over ready to send. Back to the queue go those whose endpoint was
    /// disabled or deleted since (to wait as its others do), and those whose lease could run out
    /// before an attempt at the endpoint's timeout ends (a claim leases them afresh).
    /// </summary>
    private async Task<List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)>> LoadHandedAsync(List<LeasedNotification> handed, DateTimeOffset now, Dictionary<string, string> inHand, CancellationToken cancellationToken)
    {
        Hold(inHand, handed.Select(n => (n.Id, n.LeaseToken)));
        var loaded = await _store.LoadLeasedAsync(handed, now, cancellationToken).ConfigureAwait(false);
        var until = handed.ToDictionary(n => n.Id, n => n.LeasedUntil, StringComparer.Ordinal);
        var ready = loaded.Where(n => until[n.Id] - now >= TimeSpan.FromSeconds(n.TimeoutSeconds) + LeaseMargin).ToList();
        if (ready.Count < handed.Count)
        {
            var kept = ready.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
            await ReleaseAsync(inHand, handed.Where(n => !kept.Contains(n.Id)).Select(n => (n.Id, n.LeaseToken)).ToList(), now, cancellationToken).ConfigureAwait(false);
        }
        // Taken as of its lease's start, as a claim's notifications are.
        return ready.Select(n => (n, until[n.Id] - _options.Lease)).ToList();
    }
}
