using System.Globalization;
using System.Threading.Channels;
using Herald.Delivery.Health;
using Herald.Delivery.Sending;
using Herald.Errors;
using Herald.Ids;
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
public sealed partial class ResendQueue : BackgroundService
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

    /// <summary>The lock of <paramref name="key"/>'s stripe: keys share a stripe by their hash.</summary>
    private static SemaphoreSlim StripeOf(SemaphoreSlim[] stripes, string key) =>
        stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)stripes.Length)];

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

    // A full queue empties as its resends go out: a caller is told to come back in a few seconds.
    private static readonly TimeSpan ComeBackAfter = TimeSpan.FromSeconds(5);

    private HeraldException Full(string merchantId) =>
        _room.Free == 0
            ? new(ErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture, $"{_capacity:N0} resends are waiting already; try again once they have gone out")) { RetryAfter = ComeBackAfter }
            : new(ErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture, $"{_perMerchant:N0} of this merchant's resends are waiting already (the most one merchant may have waiting, so others' resends are not held up); try again once they have gone out")) { RetryAfter = ComeBackAfter };

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
}
