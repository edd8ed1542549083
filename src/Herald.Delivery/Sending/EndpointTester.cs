using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Ids;
using Herald.Payloads;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Sending;

/// <summary>
/// Sends an endpoint a test notification now and returns what happened. The request is signed
/// and sent exactly as a real one, but nothing is recorded: a test leaves the log untouched.
/// </summary>
public sealed class EndpointTester(WebhookSender sender, IHeraldStore store, TimeProvider time)
{
    /// <summary>The event type a test notification carries.</summary>
    public const string TestEventType = "HERALD.TEST";

    /// <summary>
    /// The header every request a test sends carries (<c>webhook-test: 1</c>), Herald's test
    /// notification and an event type's example alike, for whoever reads the request without
    /// verifying it (logs, proxies). A receiver tells an example apart by its signed
    /// <c>webhook-id</c> instead (<see cref="HeraldId.TestEvent"/>): a header outside the signature
    /// can be stripped from a captured example, or added to a real delivery, on the way.
    /// </summary>
    public const string TestHeader = "webhook-test";

    /// <summary>
    /// Tests one merchant may have waiting for their answers at once on this node. A test holds the
    /// request that asked for it (and a connection out) until the endpoint answers or its timeout, up
    /// to a minute: within the request rate alone, one merchant's tests of a receiver that never
    /// answers would hold thousands of both.
    /// </summary>
    public const int TestsPerMerchant = 5;

    private readonly MerchantTurns _waiting = new(TestsPerMerchant,
        $"{TestsPerMerchant} endpoint tests of this merchant are waiting for their answers already; retry once one has its answer");

    public Task<AttemptResult> SendAsync(Endpoint endpoint, CancellationToken cancellationToken) => SendAsync(endpoint, null, cancellationToken);

    /// <summary>What a test sends: an example of <paramref name="eventType"/>, or without one Herald's test notification in the endpoint's kind.</summary>
    private string Body(Endpoint endpoint, string? eventType, string eventId)
    {
        if (eventType is not null)
        {
            return PayloadExamples.Render(endpoint.Format, eventType, eventId)
                ?? throw new ArgumentException($"the {endpoint.Format.ApiName()} format does not carry {eventType}", nameof(eventType));
        }
        if (endpoint.Format == PayloadFormat.Operator)
        {
            // An operator webhook's receiver reads Herald's events by their type: its test is one of them in shape.
            return Health.OperatorEvents.Body(eventId, OperatorEventTypes.EndpointTest, time.GetUtcNow(), new JsonObject
            {
                ["endpoint_id"] = endpoint.Id,
                ["test"] = true,
            });
        }
        return JsonText.Of(new JsonObject
        {
            ["id"] = eventId,
            ["event_type"] = TestEventType,
            ["test"] = true,
            ["endpoint_id"] = endpoint.Id,
            ["format"] = endpoint.Format.ApiName(),
            ["sent_at"] = Herald.Entities.EntityDocuments.FormatApiTime(time.GetUtcNow()),
        });
    }

    /// <summary>
    /// Sends the test notification, or with <paramref name="eventType"/> (one the endpoint's format
    /// carries) the example body of that event type as the format renders it, under an event id of its
    /// own: what a delivery of that type looks like, for a receiver to try its handling on. Refused
    /// (429) while the merchant has <see cref="TestsPerMerchant"/> tests waiting already.
    /// </summary>
    public async Task<AttemptResult> SendAsync(Endpoint endpoint, string? eventType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using (_waiting.Take(endpoint.MerchantId))
        {
            return await SendNowAsync(endpoint, eventType, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<AttemptResult> SendNowAsync(Endpoint endpoint, string? eventType, CancellationToken cancellationToken)
    {
        var eventId = HeraldId.New(HeraldId.TestEvent, time);
        // Signed by every secret signing now, as a delivery is: a header grown too long for the
        // receiver during a rotation's grace fails the test as it fails deliveries.
        var secrets = await store.SigningSecretsAsync(endpoint.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var body = Body(endpoint, eventType, eventId);
        var notification = new ClaimedNotification
        {
            Id = eventId,
            MerchantId = endpoint.MerchantId,
            EventId = eventId,
            EndpointId = endpoint.Id,
            Url = endpoint.Url,
            Format = endpoint.Format,
            Success = endpoint.Success,
            Retry = endpoint.Retry,
            TimeoutSeconds = endpoint.TimeoutSeconds,
            Headers = new Dictionary<string, string>(endpoint.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase) { [TestHeader] = "1" },
            Secrets = secrets,
            Payload = body,
            Status = NotificationStatuses.Pending,
            AttemptCount = 0,
            Failures = 0,
            CreatedAt = time.GetUtcNow(),
        };
        // The API request that asked for the test runs in the web server's activity: one nothing
        // records must not reach the endpoint as a traceparent.
        Workers.DeliveryTelemetry.LeaveUntracedRequest();
        return await sender.SendAsync(notification, 1, cancellationToken).ConfigureAwait(false);
    }
}
