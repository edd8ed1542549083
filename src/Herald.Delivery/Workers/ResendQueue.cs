using System.Threading.Channels;
using Herald.Errors;
using Herald.Ids;
using Herald.Delivery.Health;
using Herald.Delivery.Sending;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Manual resends: the API hands a notification over and answers 202; this service makes the
/// attempt at once, whatever the notification's status, and records it as manual. Attempts pass
/// the endpoint's gate as scheduled ones do (its concurrency cap, its rate limit, one at a time
/// while its circuit is open); a resend the gate holds back gives its sending slot up and comes
/// back to the queue once the gate's wait is over, so that one endpoint's limits never hold up the
/// resends of others, and no newer resend to that endpoint overtakes it. A recover of an ordered endpoint sends one notification at a time, oldest
/// first, so that its receiver sees an entity's versions in order. Every resend is kept in the
/// database before the caller hears it is queued, owned by this node while it holds it, and
/// forgotten once made: a node that stops lets what it is sending finish within the shutdown
/// grace and hands the rest back, and takes what others handed back (or left, lost, once their
/// hold ran out) when it starts and every third of a lease. What another node has taken meanwhile
/// (this one's hold having lapsed) it lets go of unsent.
/// </summary>
public sealed class ResendQueue : BackgroundService
{
    private const int Concurrency = 8;

    // Notifications sent one after another, in this order; read again when their turn comes. An
    // ordered run stops at its first failure: what follows would overtake what failed.
    // Request: the kept request, its Done the notifications of it already handled.
    // HeldBack: the first one as it was read when the endpoint's gate held it back, shown to the
    // gate again when it comes back, so that waiting costs no write of the database (or, for work
    // that waited behind older work of its endpoint, that work's: the gate decides by the endpoint).
    // EndpointId: the endpoint its notifications go to, when known as it is queued (a resend, a
    // recover; not a request taken over from another node until it is read).
    private sealed record Work(ResendRequest Request, ClaimedNotification? HeldBack = null, string? EndpointId = null)
    {
        /// <summary>How many of the request's notifications are still to be sent.</summary>
        public int Left => Request.NotificationIds.Count - Request.Done;

        /// <summary>Its place in the order work was first queued in, which it keeps when it is held back and comes back.</summary>
        public long Seq { get; init; }
    }

    private long _lastSeq;

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

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>();
    private readonly int _capacity;
    private readonly TimeSpan _lease;
    private readonly TimeSpan _grace;

    // Most kept requests taken in one claim: a claim stops once the queue's room is taken.
    private const int ClaimBatch = 50;

    // This node's name on the resends it owns: new with each start.
    private readonly string _owner = Guid.NewGuid().ToString("N");

    // The kept requests this node holds (queued, held back or being sent): the ones it renews.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    // Held by the recover being read and queued, one for each stripe of merchants.
    private readonly SemaphoreSlim[] _recovering = Enumerable.Range(0, 16).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    // Cancels the attempts still running once the shutdown grace is over.
    private readonly CancellationTokenSource _abort = new();

    // Notifications queued and not yet sent, in all and by merchant: the bounds the capacity holds.
    private readonly ResendRoom _room;

    // Resends made while their caller waits (the portal's Resend): counted among the resends being
    // sent, outside the room, which bounds what is queued.
    private int _sendingNow;
    private readonly int _perMerchant;
    private readonly EndpointGate _gate;

    private readonly IHeraldStore _store;
    private readonly WebhookSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger<ResendQueue> _logger;
    private readonly DeliveryFailures _failures;

    private readonly DeliveryMetrics _metrics;
    private readonly OperatorEvents _operatorEvents;

    public ResendQueue(IHeraldStore store, WebhookSender sender, TimeProvider time, ILogger<ResendQueue> logger, DeliveryMetrics metrics,
        IOptions<DeliveryOptions> options, EndpointGate gate, OperatorEvents operatorEvents)
    {
        ArgumentNullException.ThrowIfNull(options);
        _operatorEvents = operatorEvents;
        _capacity = options.Value.ResendQueueCapacity;
        _perMerchant = Math.Min(_capacity, options.Value.ResendsPerMerchant);
        _room = new ResendRoom(_capacity, _perMerchant);
        _lease = options.Value.Lease;
        _grace = options.Value.ShutdownGrace;
        _gate = gate;
        _metrics = metrics;
        _metrics.ObserveResends(() => _room.Waiting + Volatile.Read(ref _sendingNow));
        _store = store;
        _sender = sender;
        _time = time;
        _logger = logger;
        _failures = new DeliveryFailures(logger, time, store);
    }

    /// <summary>
    /// Queues a manual attempt of the merchant's notification; false when it does not exist. Refused
    /// (<see cref="HeraldException"/>) when its endpoint was deleted, or when the queue is full.
    /// </summary>
    public async Task<bool> EnqueueAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        if (await LoadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is not { } notification)
        {
            return false;
        }
        if (_room.Take(merchantId, 1, allOrNothing: true) == 0)
        {
            throw Full(merchantId);
        }
        await KeepAndQueueAsync([NewRequest(merchantId, [notificationId], stopAtFailure: false)], recover: null, notification.EndpointId, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private ResendRequest NewRequest(string merchantId, IReadOnlyList<string> ids, bool stopAtFailure) =>
        new(HeraldId.New(HeraldId.Resend, _time), merchantId, ids, stopAtFailure, 0, _time.GetUtcNow());

    /// <summary>
    /// Keeps the requests, owned by this node, then queues them; their room in the queue is taken
    /// already, and given back if they cannot be kept (the caller hears why). A recover's
    /// (<paramref name="recover"/>: the kept resends whose attempt was under way when it was asked)
    /// are kept less what resends of its merchant's wait to send by then (another recover's, on any
    /// node), whose room is given back. Answers what was kept.
    /// </summary>
    private async Task<IReadOnlyList<ResendRequest>> KeepAndQueueAsync(IReadOnlyList<ResendRequest> requests, IReadOnlySet<string>? recover, string endpointId, CancellationToken cancellationToken)
    {
        IReadOnlyList<ResendRequest> kept = [];
        try
        {
            var until = _time.GetUtcNow() + _lease;
            if (recover is not null)
            {
                kept = await _store.AddResendsNotWaitingAsync(requests[0].MerchantId, requests, _owner, until, recover, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _store.AddResendsAsync(requests, _owner, until, cancellationToken).ConfigureAwait(false);
                kept = requests;
            }
        }
        finally
        {
            var keptIds = kept.ToDictionary(r => r.Id, r => r.NotificationIds.Count, StringComparer.Ordinal);
            foreach (var request in requests)
            {
                _room.Give(request.MerchantId, request.NotificationIds.Count - keptIds.GetValueOrDefault(request.Id));
            }
        }
        foreach (var request in kept)
        {
            _held[request.Id] = 0;
            Queue(new Work(request, EndpointId: endpointId));
        }
        return kept;
    }

    /// <summary>Queues work whose room is taken; when the node is stopping it stays kept, for the next to send.</summary>
    private void Queue(Work work)
    {
        if (work.Seq == 0)
        {
            work = work with { Seq = Interlocked.Increment(ref _lastSeq) };
        }
        if (!_queue.Writer.TryWrite(work))
        {
            _room.Give(work.Request.MerchantId, work.Left);
        }
    }

    /// <summary>
    /// Makes a manual attempt of the merchant's notification now and returns it once recorded; null
    /// when the notification does not exist. For callers that show the result at once (the portal).
    /// </summary>
    public async Task<Attempt?> ResendNowAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        // Real time, as the gate's own limits count it. An attempt of it under way is waited for a
        // while (it usually ends within the endpoint's timeout); the caller waits for the answer.
        var busyUntil = DateTime.UtcNow + BusyPatience;
        Interlocked.Increment(ref _sendingNow);
        try
        {
            return await ResendNowCountedAsync(merchantId, notificationId, busyUntil, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _sendingNow);
        }
    }

    private async Task<Attempt?> ResendNowCountedAsync(string merchantId, string notificationId, DateTime busyUntil, CancellationToken cancellationToken)
    {
        // Sent from within the request that asked (the portal's): the web server's activity, one
        // nothing records, must not reach the endpoint as a traceparent; the attempt is in its
        // change's trace, as a queued resend's is.
        DeliveryTelemetry.LeaveUntracedRequest();
        ClaimedNotification? heldBack = null;
        while (true)
        {
            var turn = await TakeTurnAsync(merchantId, notificationId, onlyFailed: false, heldBack, cancellationToken).ConfigureAwait(false);
            heldBack = turn.HeldBack;
            if (turn.Ready is { } ready)
            {
                return await AttemptLetThroughAsync(ready, cancellationToken).ConfigureAwait(false);
            }
            if (turn.Wait is not { } wait)
            {
                // Not found, or its endpoint deleted (409), said as for a queued resend.
                if (await LoadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is null)
                {
                    return null;
                }
                continue;
            }
            if (turn.Busy && DateTime.UtcNow + wait > busyUntil)
            {
                throw new HeraldException(ErrorKind.Conflict, $"notification {notificationId}: another attempt of it is under way; try again once it is over");
            }
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How long a resend made while its caller waits waits for an attempt of the notification under way.</summary>
    private static readonly TimeSpan BusyPatience = TimeSpan.FromSeconds(15);

    /// <summary>The notification with its endpoint, to be sent again; null when it does not exist, refused when its endpoint was deleted.</summary>
    private async Task<ClaimedNotification?> LoadAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        if (await ReadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is { } notification)
        {
            return notification;
        }
        // Not loaded: gone, or its endpoint deleted (a deleted endpoint's address is sent nothing more).
        return await _store.GetNotificationAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is null
            ? null
            : throw new HeraldException(ErrorKind.Conflict, $"notification {notificationId}: its endpoint was deleted, so there is nowhere to send it");
    }

    // A full queue empties as its resends go out: a caller is told to come back in a few seconds.
    private static readonly TimeSpan ComeBackAfter = TimeSpan.FromSeconds(5);

    private HeraldException Full(string merchantId) =>
        _room.Free == 0
            ? new(ErrorKind.Unavailable, $"{_capacity:N0} resends are waiting already; try again once they have gone out") { RetryAfter = ComeBackAfter }
            : new(ErrorKind.Unavailable, $"{_perMerchant:N0} of this merchant's resends are waiting already (the most one merchant may have waiting, so others' resends are not held up); try again once they have gone out") { RetryAfter = ComeBackAfter };

    /// <summary>
    /// Where a manual attempt of a notification stands: <see cref="Ready"/> (leased to it, read
    /// afresh, and let through the endpoint's gate), or to be asked again after <see cref="Wait"/>
    /// (<see cref="Busy"/>: another attempt of it is under way; otherwise the gate holds it back,
    /// <see cref="HeldBack"/> the notification as read then), or neither: nothing to send (gone, or
    /// a recover's that has succeeded by its turn). <see cref="Behind"/>: queued work put behind older
    /// work of its endpoint held back, asked nothing.
    /// </summary>
    private readonly record struct Turn(ClaimedNotification? Ready, TimeSpan? Wait, bool Busy = false, ClaimedNotification? HeldBack = null, bool Behind = false);

    private SemaphoreSlim TurnsOf(string endpointId) => _turns[(int)((uint)StringComparer.Ordinal.GetHashCode(endpointId) % (uint)_turns.Length)];

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
    /// The attempt of a notification the endpoint's gate has let through. Its success closes the
    /// endpoint's circuit, should it be open (the operator hears the endpoint recovered); its failure
    /// does not count towards opening it.
    /// </summary>
    private async Task<Attempt> AttemptLetThroughAsync(ClaimedNotification notification, CancellationToken cancellationToken)
    {
        TimeSpan? took = null;
        bool? succeeded = null;
        Attempt attempt;
        try
        {
            attempt = await AttemptAsync(notification, (t, ok) => (took, succeeded) = (t, ok), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (notification.LeaseToken is not null)
        {
            // Not recorded (cut off at the end of a shutdown's grace, the database away): the lease
            // is let go, so that the next to send it need not wait for it to run out.
            await ReleaseLeaseQuietlyAsync(notification).ConfigureAwait(false);
            throw;
        }
        finally
        {
            // What it took and how it ended, once made, tell the gate how quickly the endpoint
            // answers (a merchant's slow endpoints share a part of the node) and how wide its window
            // is; a success closes its circuit, which is told whether the attempt was recorded or not.
            if (_gate.Exit(notification.EndpointId, succeeded, took, manual: true) == GateChange.Closed)
            {
                await RecoveredAsync(notification).ConfigureAwait(false);
            }
        }
        return attempt;
    }

    /// <summary>An endpoint whose circuit was open answered a resend: logged, and the operator told.</summary>
    private async Task RecoveredAsync(ClaimedNotification notification)
    {
        DeliveryLog.Recovered(_logger, notification.EndpointId);
        try
        {
            await _operatorEvents.EndpointRecoveredAsync(notification.MerchantId, notification.EndpointId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, notification.EndpointId);
        }
    }

    private async Task<Attempt> AttemptAsync(ClaimedNotification notification, Action<TimeSpan, bool> made, CancellationToken cancellationToken)
    {
        var number = notification.AttemptCount + 1;
        // In the trace of the change that caused it, as its scheduled attempts are.
        using var activity = DeliveryTelemetry.StartDelivery(notification, number, AttemptTriggers.Manual);
        var result = await _sender.SendAsync(notification, number, cancellationToken).ConfigureAwait(false);
        DeliveryTelemetry.Answered(activity, result);
        made(TimeSpan.FromMilliseconds(result.DurationMs), result.Succeeded);
        var attempt = new Attempt(
            Ids.HeraldId.New(Ids.HeraldId.Attempt, _time), notification.Id, number, AttemptTriggers.Manual,
            result.StartedAt, result.DurationMs, result.StatusCode, result.Succeeded, result.Error, result.ResponseExcerpt);
        // Once sent, the attempt is recorded even if the caller has gone; its lease ends with it.
        await _store.RecordManualAttemptAsync(attempt, notification.LeaseToken, CancellationToken.None).ConfigureAwait(false);
        _metrics.Attempted(result.Succeeded, AttemptTriggers.Manual);
        // Its delivery, when no attempt had reached the endpoint before (it is held under this
        // attempt's lease, so what was read is still so): timed as a scheduled attempt's is.
        if (result.Succeeded && notification.Status != NotificationStatuses.Succeeded)
        {
            _metrics.Delivered(_time.GetUtcNow() - notification.CreatedAt);
        }
        DeliveryLog.Resent(_logger, notification.Id, result.Succeeded ? "succeeded" : result.Error ?? "failed");
        if (result.StatusCode == 410)
        {
            await DisableGoneAsync(notification).ConfigureAwait(false);
        }
        return attempt;
    }

    /// <summary>A 410 Gone disables the endpoint, whichever attempt met it (Standard Webhooks), and the operator is told.</summary>
    private async Task DisableGoneAsync(ClaimedNotification notification)
    {
        try
        {
            if (await _operatorEvents.DisableEndpointAsync(notification.MerchantId, notification.EndpointId, DeliveryWorker.GoneReason, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false))
            {
                DeliveryLog.Disabled(_logger, notification.EndpointId, DeliveryWorker.GoneReason);
            }
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, notification.EndpointId);
        }
    }

    /// <summary>
    /// Queues a manual attempt of every notification of one endpoint recorded since a time that has
    /// failed: dead ones, and pending ones whose last attempt failed, oldest first. Answers how many
    /// were queued, and whether that was all of them: it stops reading, never waits, when the queue
    /// is full (the rest are queued by calling it again once those have gone out). Refused when
    /// nothing could be queued. An ordered endpoint's are queued as one run, sent one at a time,
    /// which stops at its first failure so that nothing newer overtakes what failed.
    /// </summary>
    public async Task<(int Queued, bool Complete)> RecoverAsync(string merchantId, string endpointId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // One recover of a merchant's at a time on this node, so that of two asked at once (a double
        // click, a retried call) the second reads what the first queued, rather than taking room for
        // the same notifications and, the queue full, being refused; other merchants' recovers, on
        // other stripes, do not wait for it (but for one sharing its stripe). Two asked of two nodes
        // at once never both queue one notification: the store keeps a recover's resends less
        // what waits by then. A resend's attempt already under way when it is asked is no resend
        // waiting: it may fail, so the recover queues its own, which goes out after it unless it
        // succeeded; one that starts after it is asked (another recover's, asked at once) is.
        var underWay = await _store.ResendsUnderWayAsync(merchantId, cancellationToken).ConfigureAwait(false);
        var stripe = _recovering[(int)((uint)StringComparer.Ordinal.GetHashCode(merchantId) % (uint)_recovering.Length)];
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RecoverOnceAsync(merchantId, endpointId, since, underWay, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stripe.Release();
        }
    }

    private async Task<(int Queued, bool Complete)> RecoverOnceAsync(string merchantId, string endpointId, DateTimeOffset since, IReadOnlySet<string> underWay, CancellationToken cancellationToken)
    {
        var endpoint = await _store.GetEndpointAsync(merchantId, endpointId, cancellationToken).ConfigureAwait(false);
        // What a resend already waits to send (an earlier recover, a resend asked for one by one)
        // goes out once, not once a request.
        var resending = await _store.ResendingAsync(merchantId, underWay, cancellationToken).ConfigureAwait(false);
        var room = _room.FreeFor(merchantId);
        var taken = new List<string>();
        var complete = true;
        // From the oldest up: each page is the next newer one (asked for as the page before the
        // newest seen), so reading stops once the queue's room is taken.
        var before = HeraldId.Floor(HeraldId.Notification, since);
        Page<Notification> page;
        do
        {
            // Only the failed ones are read: an endpoint's log of successes, however long, is not walked.
            var query = new NotificationQuery { EndpointId = endpointId, Since = since, Limit = 100, EndingBefore = before, FailedOnly = true };
            page = await _store.ListNotificationsAsync(merchantId, query, cancellationToken).ConfigureAwait(false);
            if (page.Data.Count == 0)
            {
                break;
            }
            before = page.Data[0].Id;
            // Oldest first, and an entity's versions in their order (several can be recorded in one millisecond).
            var failed = page.Data
                .Where(n => !resending.Contains(n.Id))
                .OrderBy(n => n.CreatedAt).ThenBy(n => n.EntityVersion).ThenBy(n => n.Id, StringComparer.Ordinal);
            foreach (var n in failed)
            {
                if (taken.Count == room)
                {
                    complete = false;
                    break;
                }
                taken.Add(n.Id);
            }
        }
        while (complete && page.HasMore);
        if (taken.Count == 0)
        {
            return complete ? (0, true) : throw Full(merchantId);
        }
        var ordered = endpoint?.Ordered == true;
        var queued = _room.Take(merchantId, taken.Count, allOrNothing: ordered);
        if (queued == 0)
        {
            throw Full(merchantId);
        }
        // What has succeeded by its turn (a scheduled retry under way meanwhile, another recover) is
        // not sent again.
        IReadOnlyList<ResendRequest> requests = ordered
            ? [NewRequest(merchantId, taken, stopAtFailure: true) with { OnlyFailed = true }]
            : taken.Take(queued).Select(id => NewRequest(merchantId, [id], stopAtFailure: false) with { OnlyFailed = true }).ToList();
        // What a recover on another node kept meanwhile is left to it: it is queued there.
        var kept = await KeepAndQueueAsync(requests, underWay, endpointId, cancellationToken).ConfigureAwait(false);
        return (kept.Sum(r => r.NotificationIds.Count), complete && queued == taken.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(Concurrency, Concurrency);
        var running = new List<Task>();
        var keeping = KeepOwnedAsync(stoppingToken);
        var returning = ReturnParkedAsync(stoppingToken);
        try
        {
            await foreach (var work in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(SendAsync(work, slots, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // What is being sent may finish within the grace; then it is cut off, and kept.
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(_grace, CancellationToken.None)).ConfigureAwait(false) != all)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }
        await all.ConfigureAwait(false);
        await keeping.ConfigureAwait(false);
        await returning.ConfigureAwait(false);
    }

    /// <summary>
    /// At once and every third of a lease: holds on to the resends this node owns, and takes the
    /// ones nobody owns (handed back by a node that stopped, or left by a lost one) while the queue
    /// has room for them.
    /// </summary>
    private async Task KeepOwnedAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                try
                {
                    await KeepAndTakeAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _failures.ResendsNotKept(e);
                }
                await Task.Delay(_lease / 3, _time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Renews this node's hold on what it holds (letting go of what another node has taken
    /// meanwhile), then takes kept requests nobody holds, a batch at a time while the queue has room.
    /// </summary>
    private async Task KeepAndTakeAsync(CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var held = _held.Keys.ToList();
        var renewed = (await _store.RenewResendsAsync(_owner, held, now + _lease, stoppingToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        foreach (var id in held.Where(id => !renewed.Contains(id)))
        {
            // Taken by another node (or made and forgotten just now): not this one's to send.
            _held.TryRemove(id, out _);
        }
        var taken = 0;
        for (var room = _room.Free; room > 0;)
        {
            var batch = await _store.ClaimResendsAsync(_owner, now, now + _lease, Math.Min(room, ClaimBatch), stoppingToken).ConfigureAwait(false);
            foreach (var request in batch)
            {
                // One still in memory (this node's hold had lapsed) is held again, not queued twice.
                if (_held.TryAdd(request.Id, 0))
                {
                    // Accepted once already: queued even past the room, which only new resends wait for.
                    var work = new Work(request);
                    _room.Add(request.MerchantId, work.Left);
                    room -= work.Left;
                    Queue(work);
                    taken++;
                }
            }
            if (batch.Count < ClaimBatch)
            {
                break;
            }
        }
        if (taken > 0)
        {
            DeliveryLog.ResendsTaken(_logger, taken);
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        _parkedSooner.Dispose();
        foreach (var stripe in _recovering.Concat(_turns))
        {
            stripe.Dispose();
        }
        base.Dispose();
    }

    /// <summary>Stops sending, then hands back every resend not made, for any node to take at once.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _store.ReleaseResendsAsync(_owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
        }
    }

    private async Task SendAsync(Work work, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        // What is not sent (a run stopped, the node stopping) leaves the count all the same; what
        // is held back stays counted, as it waits in the queue again.
        var request = work.Request;
        var ids = request.NotificationIds;
        var left = work.Left;
        // Whether the request is over (all of it handled, or a run stopped): then it is forgotten.
        var over = false;
        try
        {
            for (var i = request.Done; i < ids.Count; i++)
            {
                var current = work with { Request = request with { Done = i }, HeldBack = i == request.Done ? work.HeldBack : null };
                // Stopping: nothing more is started (what is not made is handed back); and what
                // another node has taken is left to it (what waited behind it is not).
                if (stoppingToken.IsCancellationRequested || !_held.ContainsKey(request.Id))
                {
                    QueueAll(Unpark(current));
                    return;
                }
                var id = ids[i];
                Turn turn;
                try
                {
                    // Read when its turn comes. Held back (an attempt of it under way, the endpoint's
                    // limits), it steps aside and comes back to the queue once the wait is over; so
                    // too when older work of its endpoint is held back, which goes first.
                    turn = await QueuedTurnAsync(current, stoppingToken).ConfigureAwait(false);
                    if (turn.Wait is not null || turn.Behind)
                    {
                        left = 0;
                        return;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Not read (the database unavailable): nothing was sent. Let go of it: it is
                    // taken again, by this node or another, once its hold runs out.
                    _failures.AttemptFailed(e, id);
                    _held.TryRemove(request.Id, out _);
                    return;
                }
                if (turn.Ready is { } starting && !await UnderWayAsync(request, i, starting).ConfigureAwait(false))
                {
                    // Taken by another node meanwhile, or not noted: let go of, taken again once its hold runs out.
                    _held.TryRemove(request.Id, out _);
                    return;
                }
                var succeeded = false;
                // Counted until it is answered, as the queue's size promises.
                left--;
                try
                {
                    // Gone, or a recover's that succeeded meanwhile: handled, nothing sent.
                    succeeded = turn.Ready is not { } ready || (await AttemptLetThroughAsync(ready, _abort.Token).ConfigureAwait(false)).Succeeded;
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    // Cut off at the end of the shutdown grace: unrecorded, and kept.
                    return;
                }
                catch (Exception e)
                {
                    _failures.AttemptFailed(e, id);
                }
                finally
                {
                    _room.Give(request.MerchantId, 1);
                }
                if (request.StopAtFailure && !succeeded)
                {
                    break;
                }
                if (i + 1 < ids.Count && !await KeptAsync(() => _store.AdvanceResendAsync(request.Id, _owner, i + 1, CancellationToken.None)).ConfigureAwait(false))
                {
                    // Another node holds the run now and carries on from where it finds it.
                    _held.TryRemove(request.Id, out _);
                    return;
                }
            }
            over = true;
        }
        finally
        {
            if (over)
            {
                await KeptAsync(() => _store.RemoveResendAsync(request.Id, _owner, CancellationToken.None)).ConfigureAwait(false);
                _held.TryRemove(request.Id, out _);
            }
            _room.Give(request.MerchantId, left);
            slots.Release();
        }
    }

    /// <summary>
    /// Notes in the database, before the attempt starts, that the request's notification
    /// <paramref name="index"/> is under way, so that a recover asked from then on sends it again
    /// should it fail. When that cannot be noted (another node holds the request now, the database
    /// is away), the turn is given up unsent: its lease let go and the gate left.
    /// </summary>
    private async Task<bool> UnderWayAsync(ResendRequest request, int index, ClaimedNotification notification)
    {
        try
        {
            if (await _store.MarkResendUnderWayAsync(request.Id, _owner, index, CancellationToken.None).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
        }
        await ReleaseLeaseQuietlyAsync(notification).ConfigureAwait(false);
        _gate.Exit(notification.EndpointId, null);
        return false;
    }

    /// <summary>
    /// Records how far a kept request got; false when another node holds it now. If the write
    /// fails, this node carries on, and what it did not record may be sent again later.
    /// </summary>
    private async Task<bool> KeptAsync(Func<Task<bool>> write)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
            return true;
        }
    }

    /// <summary>Reads the merchant's notification for a resend: where its endpoint points now (null once either is gone).</summary>
    private Task<ClaimedNotification?> ReadAsync(string merchantId, string id, CancellationToken cancellationToken) =>
        _store.LoadForResendAsync(merchantId, id, _time.GetUtcNow(), cancellationToken);

    /// <summary>Lets go of a manual attempt's lease on a notification; one that cannot be let go of runs out by itself.</summary>
    private async Task ReleaseLeaseQuietlyAsync(ClaimedNotification notification)
    {
        try
        {
            // Bounded: a database away must not hold up a stop (the lease then runs out by itself).
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _store.ReleaseResendLeaseAsync(notification.Id, notification.LeaseToken!, bound.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
        }
    }

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
