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

    [Fact]
    public void AMerchantsFailingEndpoints_TakeAtMostAQuarterOfTheNodesPlaces_ItsHealthyOnesAndOtherMerchantsUnheld()
    {
        using var gate = new EndpointGate(Options.Create(new DeliveryOptions { MaxConcurrency = 8 }), _clock);
        ClaimedNotification To(string merchant, string endpoint) => Notification("n") with { MerchantId = merchant, EndpointId = endpoint, MaxConcurrency = null };
        bool Enter(string merchant, string endpoint) => gate.TryEnter(To(merchant, endpoint), out _, takeTurn: true);
        Assert.Equal(2, gate.FailingShare);
        // Four endpoints of one merchant, each of which has just failed once (a receiver that hangs, say).
        foreach (var endpoint in new[] { "ep_a1", "ep_a2", "ep_a3", "ep_a4", "ep_b1" })
        {
            var merchant = endpoint.StartsWith("ep_a", StringComparison.Ordinal) ? "mer_a" : "mer_b";
            Assert.True(Enter(merchant, endpoint));
            gate.Exit(endpoint, false);
        }

        Assert.True(Enter("mer_a", "ep_a1"));
        Assert.True(Enter("mer_a", "ep_a2"));
        // The merchant's share of failing places is taken: held back a second, to come back.
        Assert.False(gate.TryEnter(To("mer_a", "ep_a3"), out var retryIn, takeTurn: true));
        Assert.Equal(EndpointGate.HoldBack, retryIn);
        Assert.False(gate.TryEnter(To("mer_a", "ep_a4"), out _));
        Assert.False(gate.CouldEnter(To("mer_a", "ep_a4"), out _));
        // Another merchant's failing endpoint, and this merchant's healthy one, are let through.
        Assert.True(Enter("mer_b", "ep_b1"));
        Assert.True(Enter("mer_a", "ep_a_ok"));
        Assert.True(Enter("mer_a", "ep_a_ok"));

        // One of its failing attempts ends: a place of its share is free again.
        gate.Exit("ep_a1", false);
        Assert.True(Enter("mer_a", "ep_a3"));
        Assert.False(Enter("mer_a", "ep_a4"));
        // An endpoint that recovers is no longer counted.
        gate.Exit("ep_a2", true);
        Assert.True(Enter("mer_a", "ep_a4"));
        Assert.True(Enter("mer_a", "ep_a2"));
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
