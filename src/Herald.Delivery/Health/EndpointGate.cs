using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Herald.Storage.Model;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Health;

/// <summary>
/// What this node lets through to each endpoint: its concurrency cap, its rate limit, and a circuit
/// breaker that, after <see cref="DeliveryOptions.CircuitBreakerThreshold"/> consecutive failures,
/// lets one probe at a time through until one succeeds; and its window (see
/// <see cref="EndpointState.Window"/>). A notification the gate holds back never occupies a
/// delivery slot while it waits: held back by the cap or the window alone it may wait in the
/// delivery loop's memory for one of the endpoint's attempts to end (<see cref="IsAtCap"/>,
/// <see cref="Exited"/>); otherwise it is handed back to the queue for a little later.
/// </summary>
public sealed partial class EndpointGate : IDisposable
{
    private readonly ConcurrentDictionary<string, EndpointState> _endpoints = new(StringComparer.Ordinal);
    private readonly int _threshold;
    private readonly TimeProvider _time;

    // Each merchant's attempts in flight to endpoints not known to be healthy (see
    // EndpointState.HeldToShare: failing, slow or stalled), and the most it may
    // have: a quarter of the node's places. Endpoints that fail or answer slowly (receivers that hang
    // until the timeout, or take seconds to answer 200, many of them) would otherwise fill every
    // place, and every other merchant's deliveries would wait for them; a merchant's healthy
    // endpoints are not held to it.
    private readonly Lock _shareLock = new();
    private readonly Dictionary<string, int> _heldInFlight = new(StringComparer.Ordinal);
    private readonly int _merchantShare;

    // An endpoint's window (see EndpointState.Window): where it starts, and the most it grows to
    // (the node's places: past them it bounds nothing).
    private readonly int _firstWindow;
    private readonly int _widestWindow;

    /// <summary>
    /// What an endpoint's attempts may take on average, lately, and still be healthy: one slower is
    /// held to its merchant's share of the node's places, as a failing one is.
    /// </summary>
    public static readonly TimeSpan SlowAttempt = TimeSpan.FromSeconds(2);

    public EndpointGate(IOptions<DeliveryOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _threshold = options.Value.CircuitBreakerThreshold;
        _merchantShare = Math.Max(1, options.Value.MaxConcurrency / 4);
        _firstWindow = _merchantShare;
        _widestWindow = Math.Max(_firstWindow, options.Value.MaxConcurrency);
        _time = time;
    }

    private EndpointState StateOf(string endpointId) =>
        _endpoints.GetOrAdd(endpointId, static (_, window) => new EndpointState { Window = window }, _firstWindow);

    /// <summary>The endpoint's cap as this gate last saw it (work claimed since may carry a changed one), or the notification's before any.</summary>
    private static int? SeenCap(EndpointState state, ClaimedNotification notification) => state.CapSeen ? state.Cap : notification.MaxConcurrency;

    /// <summary>
    /// The most attempts of the endpoint this node lets be under way at once now: its
    /// <c>max_concurrency</c> (<paramref name="cap"/>, none when null), and its window (see
    /// <see cref="EndpointState.Window"/>); one while its circuit is open.
    /// </summary>
    private int LimitOf(EndpointState state, int? cap, DateTimeOffset now) =>
        state.ConsecutiveFailures >= _threshold ? 1 : Math.Min(cap ?? int.MaxValue, state.WindowAt(now, _firstWindow));

    /// <summary>How long a notification held back waits before it is claimable again, at least.</summary>
    public static readonly TimeSpan HoldBack = TimeSpan.FromSeconds(1);

    /// <summary>The first turn of work over an endpoint's cap: one attempt's share of the cap ahead, within 10 ms and a second.</summary>
    private static TimeSpan FirstTurn(double seconds) =>
        TimeSpan.FromSeconds(Math.Clamp(seconds, 0.01, HoldBack.TotalSeconds));

    /// <summary>How far ahead a notification over its endpoint's rate limit is told to come back, at most.</summary>
    public static readonly TimeSpan TurnHorizon = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a manual attempt its endpoint's cap refused keeps one of the endpoint's places from
    /// scheduled work, unless it asks again: scheduled work waiting in memory would otherwise take
    /// every place the moment it frees.
    /// </summary>
    private static readonly TimeSpan ResendReservation = TimeSpan.FromSeconds(2);

    /// <summary>Called with an endpoint's id once one of its attempts let through has ended (outside the gate's lock): a place is free there.</summary>
    public Action<string>? Exited { get; set; }

    /// <summary>
    /// Lets the attempt through (and counts it in flight), or says how long to hold it back.
    /// Every attempt let through must be ended with <see cref="Exit"/>.
    /// </summary>
    /// <param name="notification">What is to be sent.</param>
    /// <param name="retryIn">When refused, how long to hold it back.</param>
    /// <param name="takeTurn">
    /// Whether a notification over the rate limit takes the next turn in the endpoint's schedule
    /// (scheduled work, handed back to the queue); otherwise it is told only when the rate allows
    /// one more (a resend waiting in memory, which must not push the queue's turns back).
    /// </param>
    public bool TryEnter(ClaimedNotification notification, out TimeSpan retryIn, bool takeTurn = false)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var state = StateOf(notification.EndpointId);
        lock (state)
        {
            var now = _time.GetUtcNow();
            state.SeeCap(notification.MaxConcurrency);
            var circuitOpen = state.ConsecutiveFailures >= _threshold;
            // An endpoint idle for a while starts again from the first window.
            state.Window = state.WindowAt(now, _firstWindow);
            var held = NoteHeld(state, notification.MerchantId, now);
            var cap = LimitOf(state, notification.MaxConcurrency, now);
            // Scheduled work leaves one of the endpoint's places to a manual attempt waiting for one.
            if (state.InFlight >= (takeTurn && !circuitOpen ? state.ScheduledLimit(cap, now) : cap))
            {
                if (!takeTurn && !circuitOpen)
                {
                    state.Reserve(now + ResendReservation);
                }
                // Over the endpoint's own cap, work comes back about when the cap lets it through:
                // the cap's attempts at once, each taking what the endpoint's attempts have taken
                // lately, the first turn one such interval ahead, and the turns twice as close as
                // that pace: what comes back before a place is free waits for it in memory (the
                // delivery loop's, a few per place), so a pace measured on slower attempts (a
                // node's first, say) or a turn claimed late leaves none of the endpoint's places
                // idle, and what finds that memory full comes back later. While the circuit is open the
                // probe's outcome decides, so the rest keep coming back a second later, ready for
                // the circuit to close.
                retryIn = !circuitOpen && state.AttemptSeconds is { } seconds && seconds > 0
                    ? takeTurn ? state.NextTurn(now, FirstTurn(seconds / cap), 2 * cap / seconds) : FirstTurn(seconds / cap)
                    : HoldBack;
                return false;
            }
            // An attempt to an endpoint not known to be healthy takes one of its merchant's share of
            // places (its attempts already in flight counted above).
            if (held && !TryCountHeld(notification.MerchantId))
            {
                // A slow endpoint's backlog (its receiver answers, but after seconds) comes back a
                // second later, then a turn at a time at twice the pace the share sends it, within
                // TurnHorizon, as over a cap: not all of it claimed and handed back every second.
                // A failing endpoint's comes back a second later, its next answer awaited, as
                // does one whose last attempt was quick (its average, of slower ones, not yet fallen).
                retryIn = takeTurn && state.ConsecutiveFailures == 0 && state.LastSlow && state.AttemptSeconds is { } seconds && seconds > 0
                    ? state.NextTurn(now, HoldBack, 2 * _merchantShare / seconds)
                    : HoldBack;
                return false;
            }
            var limiter = state.LimiterFor(notification.RateLimit);
            if (limiter is not null)
            {
                using var lease = limiter.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    if (held)
                    {
                        UncountHeld(notification.MerchantId);
                    }
                    var first = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > HoldBack ? wait : HoldBack;
                    retryIn = takeTurn ? state.NextTurn(_time.GetUtcNow(), first, notification.RateLimit!.Value) : first;
                    return false;
                }
            }
            if (held)
            {
                state.Merchant = notification.MerchantId;
                state.CountedHeld++;
            }
            if (state.InFlight == 0)
            {
                state.LastEnded = now;
            }
            state.InFlight++;
            state.Entered(manual: !takeTurn, now);
            retryIn = TimeSpan.Zero;
            return true;
        }
    }

    /// <summary>Until when one of the endpoint's places is kept for a manual resend; <see cref="DateTimeOffset.MinValue"/> when none is.</summary>
    public DateTimeOffset PlaceKeptUntil(string endpointId)
    {
        if (!_endpoints.TryGetValue(endpointId, out var state))
        {
            return DateTimeOffset.MinValue;
        }
        lock (state)
        {
            return state.ResendWaitsUntil;
        }
    }

    /// <summary>
    /// Whether the endpoint's own limits keep the attempt out now: as many of its attempts in flight
    /// as its <c>max_concurrency</c> or its window allows (see <see cref="EndpointState.Window"/>),
    /// its circuit closed. Such work can wait in memory for one of them to end (<see cref="Exit"/>)
    /// instead of going back to the queue.
    /// </summary>
    /// <remarks>
    /// The cap is the endpoint's latest one this gate has seen (work claimed since may carry a
    /// changed one), and one place less while a manual attempt waits for one.
    /// </remarks>
    public bool IsAtCap(ClaimedNotification notification) => PlacesFree(notification) == 0;

    /// <summary>
    /// Most of the endpoint's attempts its cap and its window let be under way at once now;
    /// <see cref="int.MaxValue"/> when they do not decide (an endpoint this node has not sent to, or
    /// its circuit open, which lets one probe through of its own).
    /// </summary>
    public int LimitOf(ClaimedNotification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (!_endpoints.TryGetValue(notification.EndpointId, out var state))
        {
            return int.MaxValue;
        }
        lock (state)
        {
            return state.ConsecutiveFailures < _threshold ? LimitOf(state, SeenCap(state, notification), _time.GetUtcNow()) : int.MaxValue;
        }
    }

    /// <summary>
    /// How many more of the endpoint's attempts its cap and its window let in now for scheduled work
    /// (see <see cref="IsAtCap"/>); <see cref="int.MaxValue"/> when they do not decide (as <see cref="LimitOf(ClaimedNotification)"/>).
    /// Looking, it brings the endpoint's count in its merchant's share up to date (see <see cref="NoteHeld"/>).
    /// </summary>
    public int PlacesFree(ClaimedNotification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (!_endpoints.TryGetValue(notification.EndpointId, out var state))
        {
            return int.MaxValue;
        }
        lock (state)
        {
            var now = _time.GetUtcNow();
            NoteHeld(state, notification.MerchantId, now);
            return state.ConsecutiveFailures < _threshold
                ? Math.Max(0, state.ScheduledLimit(LimitOf(state, SeenCap(state, notification), now), now) - state.InFlight)
                : int.MaxValue;
        }
    }

    /// <summary>
    /// Whether <see cref="TryEnter"/> would let the attempt through now, taking nothing (no place in
    /// flight, no turn of the rate limit): for work that must hold something else first (a manual
    /// attempt's lease) and asks again once it does. When not, how long to hold it back.
    /// </summary>
    public bool CouldEnter(ClaimedNotification notification, out TimeSpan retryIn)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var state = StateOf(notification.EndpointId);
        lock (state)
        {
            var now = _time.GetUtcNow();
            var circuitOpen = state.ConsecutiveFailures >= _threshold;
            var held = NoteHeld(state, notification.MerchantId, now);
            var cap = LimitOf(state, notification.MaxConcurrency, now);
            if (state.InFlight >= cap && !circuitOpen)
            {
                // Over the cap alone: a place is kept from scheduled work for it, and it asks again
                // about when one of the endpoint's attempts ends.
                state.Reserve(_time.GetUtcNow() + ResendReservation);
                retryIn = state.AttemptSeconds is { } seconds && seconds > 0 ? FirstTurn(seconds / cap) : HoldBack;
                return false;
            }
            var limiter = state.LimiterFor(notification.RateLimit);
            if (state.InFlight >= cap || limiter?.GetStatistics()?.CurrentAvailablePermits < 1
                || (held && MerchantShareTaken(notification.MerchantId)))
            {
                retryIn = HoldBack;
                return false;
            }
            retryIn = TimeSpan.Zero;
            return true;
        }
    }

    /// <summary>Ends an attempt let through; says whether it closed an open circuit (the endpoint recovered).</summary>
    /// <param name="endpointId">The endpoint.</param>
    /// <param name="succeeded">The attempt's outcome; <c>null</c> when it was cut off.</param>
    /// <param name="took">
    /// How long the attempt took, when it was made (a manual one too): what the endpoint's held-back
    /// work is scheduled by, and whether it is slow.
    /// </param>
    /// <param name="manual">
    /// Whether it was a manual attempt: its failure does not count towards opening the circuit (the
    /// merchant asked for it, whatever the endpoint's state), but its success closes it, as a
    /// scheduled attempt's does: the endpoint answers again.
    /// </param>
    public GateChange Exit(string endpointId, bool? succeeded, TimeSpan? took = null, bool manual = false)
    {
        var state = StateOf(endpointId);
        var change = GateChange.None;
        lock (state)
        {
            // Whether its window was in use as the attempt ended: at least half of it under way.
            var windowUsed = 2 * state.InFlight >= state.Window;
            state.InFlight--;
            state.LastEnded = _time.GetUtcNow();
            // Its counted attempts are given back as its attempts end, never more of them than are in flight.
            if (state.CountedHeld > state.InFlight)
            {
                state.CountedHeld--;
                UncountHeld(state.Merchant!);
            }
            if (took is { } t)
            {
                state.Took(t);
            }
            // A quick success while the window is in use widens it by one (it doubles with each
            // round of answers to a burst; a trickle leaves it as it is); a failure or a slow answer
            // halves it, down to where it starts.
            if (succeeded is true && took < SlowAttempt)
            {
                if (windowUsed)
                {
                    state.Window = Math.Min(state.Window + 1, _widestWindow);
                }
            }
            else if (succeeded is false || took >= SlowAttempt)
            {
                state.Window = Math.Max(_firstWindow, state.Window / 2);
            }
            if (succeeded is true || (succeeded is false && !manual))
            {
                var wasOpen = state.ConsecutiveFailures >= _threshold;
                state.ConsecutiveFailures = succeeded.Value ? 0 : state.ConsecutiveFailures + 1;
                var isOpen = state.ConsecutiveFailures >= _threshold;
                change = (wasOpen, isOpen) switch
                {
                    (true, false) => GateChange.Closed,
                    (false, true) => GateChange.Opened,
                    _ => GateChange.None,
                };
            }
        }
        Exited?.Invoke(endpointId);
        return change;
    }

    public void Dispose()
    {
        foreach (var state in _endpoints.Values)
        {
            state.Limiter?.Dispose();
        }
    }

}
