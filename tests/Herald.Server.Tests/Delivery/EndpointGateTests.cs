using Herald.Delivery;
using Herald.Delivery.Health;
using Herald.Endpoints;
using Herald.Retry;
using Herald.Storage.Model;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Server.Tests.Delivery;

/// <summary>The gate's share of a capped endpoint's places between scheduled work and manual resends.</summary>
public sealed class EndpointGateTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly EndpointGate _gate;

    public EndpointGateTests() => _gate = new EndpointGate(Options.Create(new DeliveryOptions()), _clock);

    public void Dispose() => _gate.Dispose();

    private static ClaimedNotification Notification(string id) => new()
    {
        Id = id,
        MerchantId = "mer_1",
        EventId = "evt_" + id,
        EndpointId = "ep_1",
        Url = "http://127.0.0.1:9/hooks",
        Format = PayloadFormat.Thin,
        Success = SuccessRule.Any2xx,
        Retry = RetryPolicy.Exponential,
        TimeoutSeconds = 15,
        MaxConcurrency = 1,
        Secrets = ["whsec_x"],
        Payload = "{}",
        Status = "pending",
        AttemptCount = 0,
        Failures = 0,
        CreatedAt = DateTimeOffset.UnixEpoch,
    };

    private bool Scheduled(string id) => _gate.TryEnter(Notification(id), out _, takeTurn: true);

    /// <summary>A gate of a node of eight places: a merchant's endpoints not known to be healthy share two of them.</summary>
    private EndpointGate EightPlaces() => new(Options.Create(new DeliveryOptions { MaxConcurrency = 8 }), _clock);

    /// <summary>Scheduled work to a merchant's endpoint that has no cap of its own.</summary>
    private static ClaimedNotification To(string merchant, string endpoint) =>
        Notification("n") with { MerchantId = merchant, EndpointId = endpoint, MaxConcurrency = null };

    private static bool Enter(EndpointGate gate, string merchant, string endpoint) => gate.TryEnter(To(merchant, endpoint), out _, takeTurn: true);

    [Fact]
    public void AMerchantsFailingEndpoints_TakeAtMostAQuarterOfTheNodesPlaces_ItsHealthyOnesAndOtherMerchantsUnheld()
    {
        using var gate = EightPlaces();
        Assert.Equal(2, gate.MerchantShare);
        // Four endpoints of one merchant, each of which has just failed once (a receiver that hangs, say),
        // and one that answers.
        foreach (var endpoint in new[] { "ep_a1", "ep_a2", "ep_a3", "ep_a4", "ep_b1", "ep_a_ok" })
        {
            var merchant = endpoint.StartsWith("ep_a", StringComparison.Ordinal) ? "mer_a" : "mer_b";
            Assert.True(Enter(gate, merchant, endpoint));
            gate.Exit(endpoint, endpoint == "ep_a_ok", TimeSpan.FromMilliseconds(20));
        }

        Assert.True(Enter(gate, "mer_a", "ep_a1"));
        Assert.True(Enter(gate, "mer_a", "ep_a2"));
        // The merchant's share of failing places is taken: held back a second, to come back.
        Assert.False(gate.TryEnter(To("mer_a", "ep_a3"), out var retryIn, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, retryIn);
        Assert.False(gate.TryEnter(To("mer_a", "ep_a4"), out _));
        Assert.False(gate.CouldEnter(To("mer_a", "ep_a4"), out _));
        // Another merchant's failing endpoint, and this merchant's healthy one, are let through.
        Assert.True(Enter(gate, "mer_b", "ep_b1"));
        Assert.True(Enter(gate, "mer_a", "ep_a_ok"));
        Assert.True(Enter(gate, "mer_a", "ep_a_ok"));

        // One of its failing attempts ends: a place of its share is free again.
        gate.Exit("ep_a1", false);
        Assert.True(Enter(gate, "mer_a", "ep_a3"));
        Assert.False(Enter(gate, "mer_a", "ep_a4"));
        // An endpoint that recovers is no longer counted.
        gate.Exit("ep_a2", true);
        Assert.True(Enter(gate, "mer_a", "ep_a4"));
        Assert.True(Enter(gate, "mer_a", "ep_a2"));
    }

    [Fact]
    public void AnEndpointNotYetSeenToAnswer_TakesItsMerchantsShareAtOnce_AndWidensWithEachQuickAnswerWhileInUse_UpToTheNodesPlaces()
    {
        using var gate = EightPlaces();
        Assert.True(Enter(gate, "mer_a", "ep_new"));
        Assert.True(Enter(gate, "mer_a", "ep_new"));
        // Its window (two, the merchant's share) is full: what comes next waits for one of them.
        Assert.Equal(2, gate.LimitOf(To("mer_a", "ep_new")));
        Assert.True(gate.IsAtCap(To("mer_a", "ep_new")));
        Assert.False(gate.TryEnter(To("mer_a", "ep_new"), out var retryIn, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, retryIn);
        // Another endpoint has a window of its own.
        Assert.True(Enter(gate, "mer_a", "ep_other"));

        // A quick success frees its place and widens the window by one: two more go.
        gate.Exit("ep_new", true, TimeSpan.FromMilliseconds(10));
        Assert.Equal(2, gate.PlacesFree(To("mer_a", "ep_new")));
        Assert.True(Enter(gate, "mer_a", "ep_new"));
        Assert.True(Enter(gate, "mer_a", "ep_new"));
        Assert.False(Enter(gate, "mer_a", "ep_new"));

        // Kept full, it grows with each answer, up to the node's places, past which it bounds nothing.
        for (var i = 0; i < 20; i++)
        {
            gate.Exit("ep_new", true, TimeSpan.FromMilliseconds(10));
            while (gate.PlacesFree(To("mer_a", "ep_new")) > 0)
            {
                Assert.True(Enter(gate, "mer_a", "ep_new"));
            }
        }
        Assert.Equal(8, gate.LimitOf(To("mer_a", "ep_new")));

        // A trickle, one at a time, does not widen it past what it uses.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Enter(gate, "mer_a", "ep_trickle"));
            gate.Exit("ep_trickle", true, TimeSpan.FromMilliseconds(10));
        }
        Assert.Equal(3, gate.LimitOf(To("mer_a", "ep_trickle")));
    }

    [Fact]
    public void AnEndpointsWindow_Halves_AfterAFailure_OrASlowAnswer_AndStartsAgain_AfterTwoSecondsWithNothingUnderWay()
    {
        using var gate = EightPlaces();
        var to = To("mer_a", "ep_a");
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10));
        // Rounds of quick answers, each filling it.
        int Widen()
        {
            while (gate.LimitOf(to) < 6)
            {
                var entered = 0;
                for (; gate.PlacesFree(to) > 0; entered++)
                {
                    Assert.True(Enter(gate, "mer_a", "ep_a"));
                }
                for (var i = 0; i < entered; i++)
                {
                    gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10));
                }
            }
            return gate.LimitOf(to);
        }

        var wide = Widen();
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", false, TimeSpan.FromMilliseconds(10));
        Assert.Equal(Math.Max(2, wide / 2), gate.LimitOf(to));
        // (A success, so that it is no longer held to its merchant's share as a failing endpoint.)
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10));

        wide = Widen();
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", true, TimeSpan.FromSeconds(3));
        Assert.Equal(Math.Max(2, wide / 2), gate.LimitOf(to));

        wide = Widen();
        _clock.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(wide, gate.LimitOf(to));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(2, gate.LimitOf(to));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        Assert.False(gate.TryEnter(to, out _, takeTurn: true));

        // A manual attempt's quick success widens it too; its failure counts nothing for the circuit.
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10), manual: true);
        Assert.Equal(3, gate.LimitOf(to));
        for (var i = 0; i < 10; i++)
        {
            Assert.True(gate.TryEnter(to, out _));
            Assert.Equal(GateChange.None, gate.Exit("ep_a", false, TimeSpan.FromMilliseconds(10), manual: true));
        }
        Assert.Equal(2, gate.LimitOf(to));
    }

    [Fact]
    public void AnEndpointStalledAtItsWindow_CountsItsAttemptsInItsMerchantsShare()
    {
        using var gate = EightPlaces();
        // One endpoint just failed; a new one takes its window (two) of attempts, and answers none.
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
        gate.Exit("ep_failing", false, TimeSpan.FromMilliseconds(10));
        Assert.True(Enter(gate, "mer_a", "ep_hang"));
        Assert.True(Enter(gate, "mer_a", "ep_hang"));
        Assert.True(gate.IsAtCap(To("mer_a", "ep_hang")));

        // Stalled: nothing more of it goes (its window is full), and what it holds is the
        // merchant's share, so its failing endpoint waits too; another merchant's does not.
        _clock.Advance(TimeSpan.FromSeconds(2.5));
        Assert.True(gate.IsAtCap(To("mer_a", "ep_hang")));
        Assert.False(Enter(gate, "mer_a", "ep_failing"));
        Assert.True(Enter(gate, "mer_b", "ep_b"));
        gate.Exit("ep_hang", false, TimeSpan.FromSeconds(30));
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
    }

    [Fact]
    public void AStalledEndpoint_GivesBackItsMerchantsShare_AtItsFirstQuickAnswer_ThoughItStaysBusy()
    {
        using var gate = EightPlaces();
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
        gate.Exit("ep_failing", false, TimeSpan.FromMilliseconds(10));
        // Quick at two and then three at once: its window is five.
        foreach (var atOnce in new[] { 2, 3 })
        {
            for (var i = 0; i < atOnce; i++)
            {
                Assert.True(Enter(gate, "mer_a", "ep_busy"));
            }
            for (var i = 0; i < atOnce; i++)
            {
                gate.Exit("ep_busy", true, TimeSpan.FromMilliseconds(10));
            }
        }
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Enter(gate, "mer_a", "ep_busy"));
        }

        // Two seconds and none of its four ended: they take the merchant's share.
        _clock.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(1, gate.PlacesFree(To("mer_a", "ep_busy")));
        Assert.False(Enter(gate, "mer_a", "ep_failing"));

        // One answers quickly, and its place is taken again at once: it is healthy, busy as it
        // stays, and what it counted in the share is given back.
        gate.Exit("ep_busy", true, TimeSpan.FromMilliseconds(10));
        Assert.True(Enter(gate, "mer_a", "ep_busy"));
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
    }

    [Fact]
    public void AMerchantsSlowEndpoints_ShareAQuarterOfTheNodesPlaces_UntilTheyAreQuickAgain()
    {
        using var gate = EightPlaces();
        // Two receivers that answer 200, but after 20 s; another that answers at once.
        foreach (var endpoint in new[] { "ep_slow", "ep_slow2" })
        {
            Assert.True(Enter(gate, "mer_slow", endpoint));
            gate.Exit(endpoint, true, TimeSpan.FromSeconds(20));
        }
        Assert.True(Enter(gate, "mer_slow", "ep_quick"));
        gate.Exit("ep_quick", true, TimeSpan.FromMilliseconds(15));

        // One attempt each takes the share: neither is at its own window (two).
        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
        Assert.True(Enter(gate, "mer_slow", "ep_slow2"));
        Assert.False(gate.IsAtCap(To("mer_slow", "ep_slow")));
        Assert.False(gate.TryEnter(To("mer_slow", "ep_slow"), out var retryIn, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, retryIn);
        Assert.False(gate.CouldEnter(To("mer_slow", "ep_slow"), out _));
        // The merchant's quick endpoint, and another merchant's, are not held to it.
        Assert.True(Enter(gate, "mer_slow", "ep_quick"));
        Assert.True(Enter(gate, "mer_other", "ep_other"));

        // Its attempts grow quick again: the average falls under two seconds, and it is let through.
        for (var i = 0; i < 20; i++)
        {
            gate.Exit("ep_slow", true, TimeSpan.FromMilliseconds(10));
            Assert.True(Enter(gate, "mer_slow", "ep_slow"));
        }
        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
    }

    [Fact]
    public void ASlowEndpointsBacklogOverItsMerchantsShare_ComesBackSpreadOut_NotAllOfItEverySecond()
    {
        using var gate = EightPlaces();
        ClaimedNotification To(string endpoint) => Notification("n") with { MerchantId = "mer_slow", EndpointId = endpoint, MaxConcurrency = null };
        // Answers 200 after 2.5 s: two of its attempts at once (the merchant's share) send 0.8 a second.
        Assert.True(gate.TryEnter(To("ep_slow"), out _, takeTurn: true));
        gate.Exit("ep_slow", true, TimeSpan.FromSeconds(2.5));
        Assert.True(gate.TryEnter(To("ep_slow"), out _, takeTurn: true));
        Assert.True(gate.TryEnter(To("ep_slow"), out _, takeTurn: true));

        // Its backlog comes back a second later, then a turn at a time, at twice the pace the share sends
        // it, none more than 30 s ahead: not every notification of it, claimed and handed back, every second.
        var turns = new List<TimeSpan>();
        for (var i = 0; i < 100; i++)
        {
            Assert.False(gate.TryEnter(To("ep_slow"), out var retryIn, takeTurn: true));
            turns.Add(retryIn);
        }
        Assert.Equal(EndpointGate.HoldBack, turns[0]);
        Assert.Equal(TimeSpan.FromSeconds(1.625), turns[1]);
        Assert.Equal(EndpointGate.TurnHorizon, turns[^1]);
        Assert.Equal(turns.Order(), turns);

        // A manual resend takes no turn; another merchant's work is not held.
        Assert.False(gate.TryEnter(To("ep_slow"), out var resendIn));
        Assert.Equal(EndpointGate.HoldBack, resendIn);
        Assert.True(gate.TryEnter(Notification("n") with { MerchantId = "mer_other", EndpointId = "ep_other", MaxConcurrency = null }, out _, takeTurn: true));

        // Quick again (its average still over two seconds, still held): what is over the share comes
        // back a second later, not at the slow pace (once the place kept for the resend lapses).
        gate.Exit("ep_slow", true, TimeSpan.FromMilliseconds(20));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(gate.TryEnter(To("ep_slow"), out _, takeTurn: true));
        Assert.False(gate.TryEnter(To("ep_slow"), out var recovered, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, recovered);
    }

    [Fact]
    public void AHealthyEndpointThatStopsAnswering_IsHeldToItsMerchantsShare_OnceNoAttemptEndedForTwoSeconds_ItsAttemptsUnderWayCounted()
    {
        using var gate = EightPlaces();
        // It answers quickly, two and then three at once; another endpoint of the merchant has just failed once.
        foreach (var atOnce in new[] { 2, 3 })
        {
            for (var i = 0; i < atOnce; i++)
            {
                Assert.True(Enter(gate, "mer_a", "ep_a"));
            }
            for (var i = 0; i < atOnce; i++)
            {
                gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(20));
            }
        }
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
        gate.Exit("ep_failing", false, TimeSpan.FromMilliseconds(20));

        // Then its receiver takes the connections and answers none: three attempts under way, more
        // than the merchant's share of two, let through while nothing said it was unwell (its window
        // five, after its quick answers).
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        _clock.Advance(TimeSpan.FromSeconds(1.9));
        Assert.True(Enter(gate, "mer_a", "ep_a"));

        // Two seconds without an attempt of it ending: held at once, before any of them ends, and
        // those under way take the merchant's share, its failing endpoint's place too.
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(gate.TryEnter(To("mer_a", "ep_a"), out var retryIn, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, retryIn);
        Assert.False(gate.CouldEnter(To("mer_a", "ep_a"), out _));
        Assert.False(Enter(gate, "mer_a", "ep_failing"));
        // The merchant's healthy endpoints, and another merchant's, are not held.
        Assert.True(Enter(gate, "mer_a", "ep_a_ok"));
        Assert.True(Enter(gate, "mer_b", "ep_b"));

        // One of them answers, quickly: it is not stalled, and no longer held.
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(20));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        // An endpoint whose attempts keep ending is not stalled, however long some take.
        _clock.Advance(TimeSpan.FromSeconds(1.5));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(20));
        _clock.Advance(TimeSpan.FromSeconds(1.5));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
    }

    [Fact]
    public void AnEndpointResentByHandAlone_IsHeldToItsMerchantsShare_WhenItsAnswersAreSlow()
    {
        using var gate = EightPlaces();
        ClaimedNotification To(string endpoint) => Notification("n") with { MerchantId = "mer_resent", EndpointId = endpoint, MaxConcurrency = null };
        // Endpoints resent by hand alone (paused, say): their attempts count neither way for the
        // circuit, but how long they took counts.
        Assert.True(gate.TryEnter(To("ep_quick"), out _));
        gate.Exit("ep_quick", true, TimeSpan.FromMilliseconds(20), manual: true);
        Assert.True(gate.TryEnter(To("ep_slow"), out _));
        gate.Exit("ep_slow", true, TimeSpan.FromSeconds(20), manual: true);

        // The quick one is not held to its merchant's share of two places; the slow one is.
        Assert.True(gate.TryEnter(To("ep_quick"), out _));
        Assert.True(gate.TryEnter(To("ep_quick"), out _));
        Assert.True(gate.TryEnter(To("ep_quick"), out _));
        Assert.True(gate.TryEnter(To("ep_slow"), out _));
        Assert.True(gate.TryEnter(To("ep_slow"), out _));
        Assert.False(gate.TryEnter(To("ep_slow"), out _));
    }

    private bool Manual(string id) => _gate.TryEnter(Notification(id), out _);

    [Fact]
    public void AnOpenCircuit_ClosesAtAResendsSuccess_ButResendsFailuresDoNotOpenIt()
    {
        using var gate = EightPlaces();
        // Resends that fail, however many, leave the circuit closed: the endpoint takes more than one at a time.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(gate.TryEnter(To("mer_a", "ep_a"), out _));
            Assert.Equal(GateChange.None, gate.Exit("ep_a", false, TimeSpan.FromMilliseconds(10), manual: true));
        }
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10));

        // Five scheduled failures open it: one attempt at a time.
        for (var i = 0; i < 5; i++)
        {
            Assert.True(Enter(gate, "mer_a", "ep_a"));
            Assert.Equal(i == 4 ? GateChange.Opened : GateChange.None, gate.Exit("ep_a", false, TimeSpan.FromMilliseconds(10)));
        }
        Assert.True(gate.TryEnter(To("mer_a", "ep_a"), out _));
        Assert.False(Enter(gate, "mer_a", "ep_a"));

        // A resend that succeeds closes it, as a scheduled probe's success would.
        Assert.Equal(GateChange.Closed, gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(10), manual: true));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        Assert.True(Enter(gate, "mer_a", "ep_a"));
    }

    [Fact]
    public void AtACapOfOne_ResendsAndScheduledWork_TakeTheFreedPlaceInTurn_NeitherStarved()
    {
        Assert.True(Scheduled("a"));
        // A resend finds the place taken: one is kept for it from scheduled work.
        Assert.False(Manual("r1"));
        Assert.True(_gate.IsAtCap(Notification("b")));
        _gate.Exit("ep_1", true);
        Assert.False(Scheduled("b"));
        Assert.True(Manual("r1"));

        // Another resend waiting does not keep the next place too: scheduled work has it.
        Assert.False(Manual("r2"));
        _gate.Exit("ep_1", true);
        Assert.False(_gate.IsAtCap(Notification("b")));
        Assert.True(Scheduled("b"));

        // Then the resend's turn again.
        Assert.False(Manual("r2"));
        _gate.Exit("ep_1", true);
        Assert.False(Scheduled("c"));
        Assert.True(Manual("r2"));
    }

    [Fact]
    public void APlaceKeptForAResendThatStoppedAsking_IsScheduledWorksAgain_AfterTwoSeconds()
    {
        Assert.True(Scheduled("a"));
        Assert.False(Manual("r1"));
        _gate.Exit("ep_1", true);
        Assert.True(_gate.IsAtCap(Notification("b")));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(_gate.IsAtCap(Notification("b")));
        Assert.True(Scheduled("b"));
    }
}
