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
    public void AMerchantsSlowEndpoints_ShareAQuarterOfTheNodesPlaces_UntilTheyAreQuickAgain()
    {
        using var gate = EightPlaces();
        // A receiver that answers 200, but after 20 s; another that answers at once.
        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
        gate.Exit("ep_slow", true, TimeSpan.FromSeconds(20));
        Assert.True(Enter(gate, "mer_slow", "ep_quick"));
        gate.Exit("ep_quick", true, TimeSpan.FromMilliseconds(15));

        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
        Assert.True(Enter(gate, "mer_slow", "ep_slow"));
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
        // back a second later, not at the slow pace.
        gate.Exit("ep_slow", true, TimeSpan.FromMilliseconds(20));
        Assert.True(gate.TryEnter(To("ep_slow"), out _, takeTurn: true));
        Assert.False(gate.TryEnter(To("ep_slow"), out var recovered, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, recovered);
    }

    [Fact]
    public void AHealthyEndpointThatStopsAnswering_IsHeldToItsMerchantsShare_OnceNoAttemptEndedForTwoSeconds_ItsAttemptsUnderWayCounted()
    {
        using var gate = EightPlaces();
        // It answers quickly; another endpoint of the merchant has just failed once.
        Assert.True(Enter(gate, "mer_a", "ep_a"));
        gate.Exit("ep_a", true, TimeSpan.FromMilliseconds(20));
        Assert.True(Enter(gate, "mer_a", "ep_failing"));
        gate.Exit("ep_failing", false, TimeSpan.FromMilliseconds(20));

        // Then its receiver takes the connections and answers none: three attempts under way, more
        // than the merchant's share of two, let through while nothing said it was unwell.
        _clock.Advance(TimeSpan.FromMinutes(1));
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
        gate.Exit("ep_quick", null, TimeSpan.FromMilliseconds(20));
        Assert.True(gate.TryEnter(To("ep_slow"), out _));
        gate.Exit("ep_slow", null, TimeSpan.FromSeconds(20));

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
