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
public sealed partial class DeliveryWorker : BackgroundService
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
                var heldBack = await StartAsync(work, waiting, inHand, inFlight, stoppingToken).ConfigureAwait(false);
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
                    var (wait, forHeldBack) = IdleWait(heldDue, waiting);
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
                await HandBackInHandAsync(inHand).ConfigureAwait(false);
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
        await HandBackUnsentAsync(ready.Concat(waiting), claiming, inHand).ConfigureAwait(false);
        await DrainAsync(inFlight).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the attempts of the work taken, each in a slot of its own, as far as its endpoint's
    /// gate lets it through. What only its endpoint's cap holds back waits here for one of the
    /// endpoint's attempts to end (into <paramref name="waiting"/>); what the gate holds back
    /// otherwise (its rate, its circuit) is answered, to go back to the queue until it is due.
    /// </summary>
    private async Task<List<(string Id, string LeaseToken, DateTimeOffset DueAt)>?> StartAsync(
        List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> work, List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> waiting,
        Dictionary<string, string> inHand, HashSet<Task> inFlight, CancellationToken stoppingToken)
    {
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
        return heldBack;
    }

    /// <summary>
    /// How long the loop may wait for work when it has none: a poll interval, or less when work it
    /// held back falls due sooner (<c>ForHeldBack</c>: that work is claimed then, not a poll's worth).
    /// </summary>
    private (TimeSpan Wait, bool ForHeldBack) IdleWait(SortedSet<long> heldDue, List<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> waiting)
    {
        var wait = _options.PollInterval;
        var forHeldBack = false;
        if (heldDue.Count > 0)
        {
            // In whole milliseconds, as they are kept and compared in the loop (a wait's fraction
            // of a millisecond is dropped, and it would end just short of them); at least one, so
            // that the loop never turns round without waiting.
            var untilDue = TimeSpan.FromMilliseconds(Math.Max(1, heldDue.Min - _time.GetUtcNow().ToUnixTimeMilliseconds()));
            if (untilDue < wait)
            {
                wait = untilDue;
                forHeldBack = true;
            }
        }
        // A place kept for a resend that stops asking frees for what waits here when the keeping
        // lapses, with no attempt ending to say so: the loop wakes then.
        foreach (var (waiter, _) in waiting)
        {
            var kept = _gate.PlaceKeptUntil(waiter.EndpointId) - _time.GetUtcNow();
            if (kept > TimeSpan.Zero && kept < wait)
            {
                wait = kept;
                forHeldBack = true;
            }
        }
        return (wait, forHeldBack);
    }

    /// <summary>
    /// After a round failed: what it took and did not send goes back now if the database allows;
    /// else its leases run out.
    /// </summary>
    private async Task HandBackInHandAsync(Dictionary<string, string> inHand)
    {
        if (inHand.Count == 0)
        {
            return;
        }
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

    /// <summary>
    /// As the loop stops: what was claimed and not sent (<paramref name="unsentWork"/>, and what the
    /// claim under way took) goes back at once, not after the attempts in flight, since other nodes
    /// need not wait for it; what was handed over and not taken is released with what is in flight.
    /// </summary>
    private async Task HandBackUnsentAsync(
        IEnumerable<(ClaimedNotification Notification, DateTimeOffset ClaimedAt)> unsentWork,
        Task<IReadOnlyList<ClaimedNotification>>? claiming, Dictionary<string, string> inHand)
    {
        var unsent = unsentWork.Select(r => (r.Notification.Id, r.Notification.LeaseToken!)).ToList();
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
        foreach (var n in _handOff.Close())
        {
            _held[n.Id] = n.LeaseToken;
        }
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

    public override void Dispose()
    {
        _slots.Dispose();
        _recording.Dispose();
        _abort.Dispose();
        base.Dispose();
    }
}
