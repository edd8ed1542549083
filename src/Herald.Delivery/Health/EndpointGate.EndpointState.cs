using System.Threading.RateLimiting;

namespace Herald.Delivery.Health;

// The endpoint gate: what it keeps of one endpoint.
public sealed partial class EndpointGate
{
    private sealed class EndpointState
    {
        public int InFlight;
        public int ConsecutiveFailures;

        /// <summary>How many of <see cref="InFlight"/> count in the merchant's share of places, and whose.</summary>
        public int CountedHeld;
        public string? Merchant;

        /// <summary>
        /// Whether its attempts count in its merchant's share of the node's places: its last attempt
        /// failed, its attempts lately took <see cref="SlowAttempt"/> or more on average, or it is
        /// stalled: attempts of it in flight and none ended for <see cref="SlowAttempt"/> (its
        /// receiver took them and answers none), which is known before any of them ends. An
        /// endpoint not yet seen to on this node is not held: the first of its attempts tell.
        /// </summary>
        public bool HeldToShare(DateTimeOffset now) =>
            ConsecutiveFailures > 0 || AttemptSeconds >= SlowAttempt.TotalSeconds
            || (InFlight > 0 && now - LastEnded >= SlowAttempt);

        /// <summary>When one of its attempts last ended, or the first of those in flight began if later.</summary>
        public DateTimeOffset LastEnded;

        /// <summary>
        /// How many of its attempts may be under way at once as far as this node has seen it answer:
        /// it starts at its merchant's share of the node's places (a quarter), grows by one with each
        /// attempt answered with a success in under <see cref="SlowAttempt"/> while at least half of
        /// it is in use (up to the node's places), halves (down to where it starts) with a failure or
        /// a slow answer, and starts again after <see cref="SlowAttempt"/> with none of its attempts
        /// under way.
        /// A burst to a receiver that takes connections and answers none (for up to its timeout)
        /// thus takes a quarter of the node's places, not every place it reaches, while one to a
        /// quick receiver is under way at full width after a few rounds of answers. Work over it
        /// waits in memory for one of the endpoint's attempts to end, as work over a cap does.
        /// </summary>
        public int Window;

        /// <summary>The window as it stands at <paramref name="now"/>: back to <paramref name="first"/> once the endpoint has been idle for <see cref="SlowAttempt"/>.</summary>
        public int WindowAt(DateTimeOffset now, int first) => InFlight == 0 && now - LastEnded >= SlowAttempt ? first : Window;

        /// <summary>The endpoint's cap as last seen on work let through or refused (null: none), once <see cref="CapSeen"/>.</summary>
        public int? Cap;
        public bool CapSeen;

        /// <summary>Until when a manual attempt refused by the cap keeps one of the endpoint's places from scheduled work.</summary>
        public DateTimeOffset ResendWaitsUntil;

        // A manual attempt took a kept place: the next place goes to scheduled work before another is
        // kept, so that resends (a recover's thousands) and scheduled work take turns, neither starved.
        private bool _scheduledTurnOwed;

        public void Reserve(DateTimeOffset until)
        {
            if (!_scheduledTurnOwed)
            {
                ResendWaitsUntil = until;
            }
        }

        public void Entered(bool manual, DateTimeOffset now)
        {
            if (!manual)
            {
                _scheduledTurnOwed = false;
            }
            else if (now < ResendWaitsUntil)
            {
                // In on the place kept for it.
                ResendWaitsUntil = default;
                _scheduledTurnOwed = true;
            }
        }

        public void SeeCap(int? cap)
        {
            Cap = cap;
            CapSeen = true;
        }

        /// <summary>How many of the endpoint's attempts in flight scheduled work may join: the cap, less the place a waiting manual attempt keeps.</summary>
        public int ScheduledLimit(int cap, DateTimeOffset now) => now < ResendWaitsUntil ? cap - 1 : cap;
        public TokenBucketRateLimiter? Limiter;
        private int? _limiterRate;

        // When the next notification held back by the rate limit or the cap may come back, at the earliest.
        private DateTimeOffset _turnsFrom;

        /// <summary>What the endpoint's attempts have taken lately, in seconds (a moving average); null before the first.</summary>
        public double? AttemptSeconds { get; private set; }

        /// <summary>Whether its last attempt took <see cref="SlowAttempt"/> or more too: one recovering answers quickly before its average falls.</summary>
        public bool LastSlow { get; private set; }

        public void Took(TimeSpan took)
        {
            AttemptSeconds = AttemptSeconds is { } mean ? (mean * 0.8) + (took.TotalSeconds * 0.2) : took.TotalSeconds;
            LastSlow = took >= SlowAttempt;
        }

        /// <summary>
        /// When a notification over the rate limit should come back: after <paramref name="first"/>, and
        /// after those held back before it, one rate's interval apart, but within <see cref="TurnHorizon"/>.
        /// A backlog is spread over the time the endpoint takes to receive it, each notification
        /// claimed again about when it can go, instead of all of it coming back (and being held back
        /// again) every second; the horizon bounds how long a raised rate limit takes to reach what
        /// is held back already.
        /// </summary>
        public TimeSpan NextTurn(DateTimeOffset now, TimeSpan first, double rate)
        {
            var turn = now + first > _turnsFrom ? now + first : _turnsFrom;
            if (turn > now + TurnHorizon)
            {
                turn = now + TurnHorizon;
            }
            _turnsFrom = turn + TimeSpan.FromSeconds(1.0 / rate);
            return turn - now;
        }

        // Rebuilt when the endpoint's rate changes; a burst of one second's worth.
        public TokenBucketRateLimiter? LimiterFor(int? rate)
        {
            if (rate != _limiterRate)
            {
                Limiter?.Dispose();
                Limiter = rate is { } r ? new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
                {
                    TokenLimit = r,
                    TokensPerPeriod = r,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }) : null;
                _limiterRate = rate;
                _turnsFrom = DateTimeOffset.MinValue;
            }
            return Limiter;
        }
    }
}
