using Herald.Delivery.Health;
using Herald.Delivery.Sending;
using Herald.Retry;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Takes the notifications this node recorded and was handed (<see cref="DeliveryHandOff"/>), and
/// claims due ones in batches under a lease, sends them with bounded concurrency, and records each
/// attempt with where it leaves the notification.
/// </summary>
public sealed class DeliveryWorker : BackgroundService
{
    private readonly IHeraldStore _store;
    private readonly WebhookSender _sender;
    private readonly DeliverySignal _signal;
    private readonly TimeProvider _time;
    private readonly DeliveryOptions _options;
    private readonly ILogger<DeliveryWorker> _logger;
    private readonly DeliveryFailures _failures;
    private readonly SemaphoreSlim _slots;

    // Attempts answered and waiting for their outcome to be committed. A slot is handed on to the
    // next request once its attempt is answered, but only while fewer than this many wait: when
    // writing falls behind, the slots stay taken and sending slows down with it.
    private readonly SemaphoreSlim _recording;

    // Attempts answered since the node started: how many slots came free while a claim ran.
    private long _sent;

    // Most parked notifications made due in one transaction.
    private const int UnparkBatch = 5_000;

    // What a handed-over notification's lease must outlast beyond its endpoint's timeout to be sent under it.
    private static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(5);

    // Cancels attempts still running when the shutdown grace is over.
    private readonly CancellationTokenSource _abort = new();

    // Claims this node holds and has not recorded an outcome for: released on shutdown.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _held = new(StringComparer.Ordinal);

    private readonly DeliveryMetrics _metrics;
    private readonly EndpointGate _gate;
    private readonly StoreWriter _writer;
    private readonly OperatorEvents _operatorEvents;
    private readonly DeliveryHandOff _handOff;

    // Endpoints this node knows to have no failure on record since their last success (or is writing that down).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _healthy = new(StringComparer.Ordinal);

    /// <summary>
    /// Endpoints with notifications waiting in this node's memory for one of their attempts to end
    /// (held back by their own cap or window alone), and how many: an attempt ending there wakes the loop.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _waitingFor = new(StringComparer.Ordinal);

    /// <summary>When each endpoint last answered this node with a success.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _succeededAt = new(StringComparer.Ordinal);

    public DeliveryWorker(IHeraldStore store, WebhookSender sender, DeliverySignal signal, TimeProvider time, IOptions<DeliveryOptions> options,
        ILogger<DeliveryWorker> logger, DeliveryMetrics metrics, EndpointGate gate, OperatorEvents operatorEvents, StoreWriter writer, DeliveryHandOff handOff)
    {
        _handOff = handOff;
        _writer = writer;
        _metrics = metrics;
        _gate = gate;
        _operatorEvents = operatorEvents;
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _sender = sender;
        _signal = signal;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _failures = new DeliveryFailures(logger, time, store);
        _slots = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
        _recording = new SemaphoreSlim(2 * _options.MaxConcurrency, 2 * _options.MaxConcurrency);
        // Any attempt's end, a manual one's too, frees a place what waits in memory may take.
        _gate.Exited = SlotFreed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.WorkersEnabled)
        {
            return;
        }
        DeliveryLog.Started(_logger, _options.BatchSize, _options.MaxConcurrency);
        _signal.WorkersRunning = true;
        // What is handed over waits here only briefly: a few batches' worth, far inside the lease.
        _handOff.Open(4 * _options.MaxConcurrency, _options.Lease);
        var inFlight = new HashSet<Task>();
        var failureDelay = TimeSpan.FromSeconds(1);
        // Claim on the first round, after a full claim (more may be due), when told of claimable
        // work or of unparked work, and at least every poll interval (retries falling due).
        var claimNext = true;
        var lastClaim = DateTimeOffset.MinValue;
        var lastUnpark = DateTimeOffset.MinValue;
        // Taken (claimed, or handed over and loaded) and not yet sent or handed back.
        var inHand = new Dictionary<string, string>(StringComparer.Ordinal);
        // A claim runs beside the sending, so the slots coming free while it waits for the database
        // are filled from what the claim before it took (its notifications wait here for a slot,
        // with when they were claimed: the last claim's time). It claims for the slots free now, plus as many as came free
        // while the claim before it ran: about what will have come free by the time it answers,
        // which is little when the endpoints are slow, so nothing waits here long.
        var ready = new Queue<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)>();
        Task<IReadOnlyList<ClaimedNotification>>? claiming = null;
        var claimRoom = 0;
        var sentBeforeClaim = 0L;
        var ahead = 0;
        // When notifications this loop held back (over an endpoint's cap or rate) fall due again,
        // in milliseconds rounded up to HeldBackWake: a claim runs then, not a poll later, so that
        // a capped endpoint gets its cap's use rather than its cap in attempts a poll.
        var heldDue = new SortedSet<long>();
        // Held back by their endpoint's cap or window alone (as many of its attempts in flight as
        // they allow), with when they were taken: kept in hand, at most four times that (and half the
        // node's slots) an endpoint and the node's slots' worth in all, and sent as soon as one of the endpoint's attempts ends,
        // rather than handed back to wait for a turn (a slot freed between two turns would stay
        // idle until the next). What is over that goes back to the queue with its turn, as before.
        var waiting = new List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Take only what there are free slots for; the rest stays claimable by other nodes.
                await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var free = Math.Min(_slots.CurrentCount + 1, _options.BatchSize);
                _slots.Release();
                var now = _time.GetUtcNow();
                if (now - lastUnpark >= _options.PollInterval)
                {
                    // Endpoints enabled again: their parked notifications fall due, a batch at a time.
                    lastUnpark = now;
                    var unparked = await _store.UnparkAsync(now, UnparkBatch, stoppingToken).ConfigureAwait(false);
                    if (unparked > 0)
                    {
                        claimNext = true;
                        if (unparked == UnparkBatch)
                        {
                            lastUnpark = DateTimeOffset.MinValue;
                        }
                    }
                }
                // Those come due are dropped from the front (the set is in order), and a claim is made.
                while (heldDue.Count > 0 && heldDue.Min <= now.ToUnixTimeMilliseconds())
                {
                    heldDue.Remove(heldDue.Min);
                    claimNext = true;
                }
                var fullClaim = false;
                if (claiming is { IsCompleted: true })
                {
                    var answered = claiming;
                    claiming = null;
                    var claimed = await answered.ConfigureAwait(false);
                    // The database answered: a later failure backs off from a second again.
                    failureDelay = TimeSpan.FromSeconds(1);
                    Hold(inHand, claimed.Select(n => (n.Id, n.LeaseToken!)));
                    foreach (var notification in claimed)
                    {
                        ready.Enqueue((FitToLease(notification), lastClaim));
                    }
                    fullClaim = claimed.Count == claimRoom;
                    // Kept if set meanwhile (work made due by an unpark the claim may not have seen).
                    claimNext |= fullClaim;
                    ahead = (int)Math.Min(_options.MaxConcurrency, Interlocked.Read(ref _sent) - sentBeforeClaim);
                }
                // However much is handed over, claims get at least half the free slots: retries,
                // ordered endpoints and the queue are never starved by this node's fresh work.
                var claimShare = _handOff.Count == 0 ? free : Math.Max(1, free / 2);
                if (claiming is null && (claimNext | _signal.TakeClaimable() || now - lastClaim >= _options.PollInterval))
                {
                    // Slots come free only from those busy now: what waits here and what the claim
                    // takes never exceed the node's slots.
                    var room = Math.Min(_options.BatchSize, claimShare + Math.Min(ahead, _options.MaxConcurrency - free) - ready.Count);
                    if (room > 0)
                    {
                        claimNext = false;
                        lastClaim = now;
                        claimRoom = room;
                        sentBeforeClaim = Interlocked.Read(ref _sent);
                        claiming = _store.ClaimDueAsync(now, _options.Lease, room, stoppingToken);
                        // Its answer wakes the loop should it be waiting for work.
                        _ = claiming.ContinueWith(_ => _signal.Wake(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }
                    else
                    {
                        // Enough claimed waits already: claim once it has gone.
                        claimNext = true;
                    }
                }
                var work = new List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)>(free);
                // What waits for its endpoint's attempts goes first once one of them has ended, with
                // its endpoint as it stands now: one paused, disabled or deleted meanwhile gets
                // nothing more from here (it goes back to the queue), a changed cap is the one obeyed.
                var expired = TakeWaiting(waiting, work, free, _time.GetUtcNow());
                if (work.Count > 0)
                {
                    var current = (await _store.RefreshClaimsAsync([.. work.Select(w => w.Notification)], now, stoppingToken).ConfigureAwait(false))
                        .ToDictionary(n => n.Id, StringComparer.Ordinal);
                    var refreshed = new List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)>(work.Count);
                    foreach (var (notification, claimedAt) in work)
                    {
                        // Its endpoint's timeout read afresh (raised, say) may no longer end inside the lease.
                        if (current.TryGetValue(notification.Id, out var fresh) && FitToLease(fresh) is var fitted && LeaseCovers(fitted, claimedAt, now))
                        {
                            refreshed.Add((fitted, claimedAt));
                        }
                        else
                        {
                            (expired ??= []).Add((notification.Id, notification.LeaseToken!));
                        }
                    }
                    work = refreshed;
                }
                expired = TakeReady(ready, work, claimShare, _time.GetUtcNow(), expired);
                var handed = _handOff.Take(free - work.Count);
                if (handed.Count > 0)
                {
                    work.AddRange(await LoadHandedAsync(handed, now, inHand, stoppingToken).ConfigureAwait(false));
                }
                expired = TakeReady(ready, work, free, _time.GetUtcNow(), expired);
                if (expired is not null)
                {
                    await ReleaseAsync(inHand, expired, now, stoppingToken).ConfigureAwait(false);
                }
                List<(string Id, string LeaseToken, DateTimeOffset DueAt)>? heldBack = null;
                foreach (var (notification, claimedAt) in work)
                {
                    if (_gate.IsAtCap(notification) && MayWait(waiting, notification))
                    {
                        waiting.Add((notification, claimedAt));
                        _waitingFor.AddOrUpdate(notification.EndpointId, 1, (_, n) => n + 1);
                        continue;
                    }
                    if (!_gate.TryEnter(notification, out var wait, takeTurn: true))
                    {
                        // Over the endpoint's concurrency, rate or circuit: back to the queue for a little later.
                        (heldBack ??= []).Add((notification.Id, notification.LeaseToken!, _time.GetUtcNow() + wait));
                        continue;
                    }
                    await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    inHand.Remove(notification.Id);
                    var task = ProcessAsync(notification, _abort.Token);
                    lock (inFlight)
                    {
                        inFlight.Add(task);
                    }
                    _ = task.ContinueWith(t =>
                    {
                        lock (inFlight)
                        {
                            inFlight.Remove(t);
                        }
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                if (heldBack is not null)
                {
                    await ReleaseAsync(inHand, heldBack, stoppingToken).ConfigureAwait(false);
                    NoteHeldBack(heldDue, heldBack, now);
                }
                // A round that leaves no claim under way went through; one whose claim is still
                // under way has not said yet whether the database answers (a claim that fails does
                // so when it is next looked at, and the backoff would otherwise start over each time).
                if (claiming is null)
                {
                    failureDelay = TimeSpan.FromSeconds(1);
                }
                // An attempt that ended while the above ran has woken the loop, or is seen here.
                if (work.Count < free && !fullClaim && _handOff.Count == 0 && ready.Count == 0 && !waiting.Exists(w => !_gate.IsAtCap(w.Notification)))
                {
                    var wait = _options.PollInterval;
                    var forHeldBack = false;
                    if (heldDue.Count > 0)
                    {
                        // In whole milliseconds, as they are kept and compared above (a wait's
                        // fraction of a millisecond is dropped, and it would end just short of them);
                        // at least one, so that the loop never turns round without waiting.
                        var untilDue = TimeSpan.FromMilliseconds(Math.Max(1, heldDue.Min - _time.GetUtcNow().ToUnixTimeMilliseconds()));
                        if (untilDue < wait)
                        {
                            wait = untilDue;
                            forHeldBack = true;
                        }
                    }
                    // A place kept for a resend that stops asking frees for what waits here when the
                    // keeping lapses, with no attempt ending to say so: the loop wakes then.
                    foreach (var (waiter, _) in waiting)
                    {
                        var kept = _gate.PlaceKeptUntil(waiter.EndpointId) - _time.GetUtcNow();
                        if (kept > TimeSpan.Zero && kept < wait)
                        {
                            wait = kept;
                            forHeldBack = true;
                        }
                    }
                    // Held-back work waited for is claimed once due (above); a poll claims whatever it finds.
                    if (!await _signal.WaitAsync(wait, _time, stoppingToken).ConfigureAwait(false) && !forHeldBack)
                    {
                        claimNext = true;
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The database may be away; back off and try again rather than stopping the node.
                _failures.LoopFailed(e, failureDelay);
                claimNext = true;
                // What waited for a slot is in hand: handed back below, or its lease runs out.
                ready.Clear();
                waiting.Clear();
                _waitingFor.Clear();
                if (inHand.Count > 0)
                {
                    // What this round took and did not send goes back now if the database allows; else its lease runs out.
                    try
                    {
                        await ReleaseAsync(inHand, inHand.Select(p => (p.Key, p.Value)).ToList(), _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        foreach (var id in inHand.Keys)
                        {
                            _held.TryRemove(id, out _);
                        }
                        inHand.Clear();
                    }
                }
                try
                {
                    // Work recorded meanwhile (the database back, and taking changes again) ends the
                    // wait: a change answered once the outage is over goes out now, not when a back-off
                    // of up to 30 s, grown through the outage, runs out. The back-off is the machine's
                    // time, whatever clock the schedule reads.
                    await _signal.WaitAsync(failureDelay, TimeProvider.System, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                failureDelay = TimeSpan.FromTicks(Math.Min(failureDelay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
        _signal.WorkersRunning = false;
        // What was claimed and not sent goes back at once, not after the attempts in flight: other
        // nodes need not wait for it.
        var unsent = ready.Concat(waiting).Select(r => (r.Notification.Id, r.Notification.LeaseToken!)).ToList();
        _waitingFor.Clear();
        if (claiming is not null)
        {
            try
            {
                unsent.AddRange((await claiming.ConfigureAwait(false)).Select(n => (n.Id, n.LeaseToken!)));
            }
            catch (Exception)
            {
                // Cut off by the stop, or failed: what it may have leased is free when the lease ends.
            }
        }
        if (unsent.Count > 0)
        {
            try
            {
                await ReleaseAsync(inHand, unsent, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Tried again with the rest once the attempts in flight are done.
                foreach (var (id, token) in unsent)
                {
                    _held[id] = token;
                }
            }
        }
        // Handed over and not yet taken: released with what is in hand or in flight.
        foreach (var n in _handOff.Close())
        {
            _held[n.Id] = n.LeaseToken;
        }
        await DrainAsync(inFlight).ConfigureAwait(false);
    }

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
        return notification.TimeoutSeconds <= room ? notification : notification with { TimeoutSeconds = room };
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

    /// <summary>
    /// Graceful shutdown: nothing new is claimed; running attempts get the grace to finish and be
    /// recorded; the rest are cancelled and their claims handed back, so no one waits out a lease.
    /// </summary>
    private async Task DrainAsync(HashSet<Task> inFlight)
    {
        Task[] remaining;
        lock (inFlight)
        {
            remaining = [.. inFlight];
        }
        var all = Task.WhenAll(remaining);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace)).ConfigureAwait(false) != all)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }
        var held = _held.Select(p => (p.Key, p.Value)).ToList();
        if (held.Count == 0)
        {
            return;
        }
        try
        {
            await _store.ReleaseAsync(held, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            DeliveryLog.Released(_logger, held.Count);
        }
        catch (Exception e)
        {
            // The leases run out on their own; releasing only spares the wait.
            _failures.LoopFailed(e, TimeSpan.Zero);
        }
    }

    private async Task ProcessAsync(ClaimedNotification notification, CancellationToken abortToken)
    {
        if (notification.LeaseToken is { } token)
        {
            _held[notification.Id] = token;
        }
        var inGate = true;
        var inSlot = true;
        var recording = false;
        try
        {
            var number = notification.AttemptCount + 1;
            using var activity = DeliveryTelemetry.StartDelivery(notification, number, AttemptTriggers.Schedule);
            var result = await _sender.SendAsync(notification, number, abortToken).ConfigureAwait(false);
            DeliveryTelemetry.Answered(activity, result);
            inGate = false;
            var circuit = _gate.Exit(notification.EndpointId, result.Succeeded, TimeSpan.FromMilliseconds(result.DurationMs));
            var outcome = Decide(notification, number, result);
            await _recording.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            recording = true;
            inSlot = false;
            Interlocked.Increment(ref _sent);
            _slots.Release();
            var recorded = await _writer.RecordAsync(outcome).ConfigureAwait(false);
            recording = false;
            _recording.Release();
            _held.TryRemove(notification.Id, out _);
            if (!recorded)
            {
                DeliveryLog.LeaseLost(_logger, notification.Id);
                return;
            }
            _metrics.Attempted(result.Succeeded, AttemptTriggers.Schedule);
            if (result.Succeeded)
            {
                _metrics.Delivered(_time.GetUtcNow() - notification.CreatedAt);
            }
            if (outcome.Status == NotificationStatuses.Dead)
            {
                _metrics.Dead();
                DeliveryLog.Dead(_logger, notification.Id, notification.EventId, notification.EndpointId, notification.MerchantId, number);
            }
            else
            {
                DeliveryLog.Attempted(_logger, notification.Id, notification.EventId, number, result.Succeeded ? "succeeded" : result.Error ?? "failed");
            }
            // The endpoint's health first: an operator event that cannot be written must not keep
            // a 410 from disabling the endpoint.
            await NoteHealthAsync(notification, result, circuit).ConfigureAwait(false);
            if (outcome.Status == NotificationStatuses.Dead)
            {
                await _operatorEvents.NotificationDeadAsync(notification, number, result.Error, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (abortToken.IsCancellationRequested)
        {
            // Cut off by shutdown: nothing is recorded and the claim is released with the others.
        }
        catch (Exception e)
        {
            _failures.AttemptFailed(e, notification.Id);
        }
        finally
        {
            if (inGate)
            {
                _gate.Exit(notification.EndpointId, null);
            }
            if (recording)
            {
                _recording.Release();
            }
            if (inSlot)
            {
                _slots.Release();
            }
        }
    }

    /// <summary>
    /// The endpoint's side of an attempt: its circuit, since when it has been failing, and the
    /// disables that follow (410 Gone, or nothing but failures for too long), each told to the operator.
    /// </summary>
    private async Task NoteHealthAsync(ClaimedNotification notification, AttemptResult result, GateChange circuit)
    {
        var endpointId = notification.EndpointId;
        try
        {
            if (circuit == GateChange.Opened)
            {
                DeliveryLog.CircuitOpened(_logger, endpointId, _options.CircuitBreakerThreshold);
                try
                {
                    await _operatorEvents.EndpointFailingAsync(notification.MerchantId, endpointId, _options.CircuitBreakerThreshold,
                        result.StatusCode, result.Error, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Told or not, the endpoint's failure is still written down and may disable it below.
                    DeliveryLog.HealthFailed(_logger, e, endpointId);
                }
            }
            if (result.Succeeded)
            {
                _succeededAt[endpointId] = result.StartedAt;
                // The first success after a failure writes it down, not every attempt running beside it.
                if (_healthy.TryAdd(endpointId, true))
                {
                    try
                    {
                        await _store.MarkEndpointHealthyAsync(endpointId, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch
                    {
                        _healthy.TryRemove(endpointId, out _);
                        throw;
                    }
                }
                if (circuit == GateChange.Closed)
                {
                    DeliveryLog.Recovered(_logger, endpointId);
                    await _operatorEvents.EndpointRecoveredAsync(notification.MerchantId, endpointId, CancellationToken.None).ConfigureAwait(false);
                }
                return;
            }
            _healthy.TryRemove(endpointId, out _);
            var now = _time.GetUtcNow();
            var failingSince = await _store.MarkEndpointFailingAsync(endpointId, result.StartedAt, CancellationToken.None).ConfigureAwait(false);
            string? reason = null;
            if (result.StatusCode == 410)
            {
                // Standard Webhooks: 410 Gone means the receiver wants no more; what is pending waits for a re-enable.
                reason = GoneReason;
            }
            else if (_options.AutoDisableAfter > TimeSpan.Zero && now - failingSince >= _options.AutoDisableAfter)
            {
                if (_succeededAt.TryGetValue(endpointId, out var succeeded) && succeeded > failingSince)
                {
                    // This node saw the endpoint answer since: the failure that started the count was
                    // written after that success (attempts racing), or by another node while this one,
                    // believing the endpoint healthy, had no reason to clear it. The count starts here.
                    await _store.MarkEndpointHealthyAsync(endpointId, CancellationToken.None).ConfigureAwait(false);
                    await _store.MarkEndpointFailingAsync(endpointId, result.StartedAt, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    reason = $"nothing but failures for {DeliveryOptions.SpanWords(now - failingSince)} (since {failingSince.UtcDateTime:yyyy-MM-dd HH:mm} UTC)";
                }
            }
            if (reason is not null && await _operatorEvents.DisableEndpointAsync(notification.MerchantId, endpointId, reason, now, CancellationToken.None).ConfigureAwait(false))
            {
                DeliveryLog.Disabled(_logger, endpointId, reason);
            }
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, endpointId);
        }
    }

    /// <summary>Why an endpoint that answered 410 Gone was disabled.</summary>
    internal const string GoneReason = "the endpoint answered 410 Gone";

    private AttemptOutcome Decide(ClaimedNotification notification, int number, AttemptResult result)
    {
        var attempt = new Attempt(
            Ids.HeraldId.New(Ids.HeraldId.Attempt, _time), notification.Id, number, AttemptTriggers.Schedule,
            result.StartedAt, result.DurationMs, result.StatusCode, result.Succeeded, result.Error, result.ResponseExcerpt);
        if (result.Succeeded)
        {
            return new AttemptOutcome(attempt, NotificationStatuses.Succeeded, null, false, notification.LeaseToken);
        }
        var failures = notification.Failures + 1;
        var now = _time.GetUtcNow();
        var next = RetrySchedule.Next(notification.Retry, notification.CreatedAt, failures, now, Random.Shared.NextDouble());
        if (next is { } scheduled && result.StatusCode is 429 or 503 && result.RetryAfter is { } asked)
        {
            next = RetrySchedule.HonouringRetryAfter(notification.Retry, notification.CreatedAt, now, scheduled, asked);
        }
        return next is null
            ? new AttemptOutcome(attempt, NotificationStatuses.Dead, null, true, notification.LeaseToken)
            : new AttemptOutcome(attempt, NotificationStatuses.Pending, next, true, notification.LeaseToken);
    }

    public override void Dispose()
    {
        _slots.Dispose();
        _recording.Dispose();
        _abort.Dispose();
        base.Dispose();
    }
}
