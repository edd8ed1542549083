using Herald.Endpoints;
using Herald.Retry;

namespace Herald.Storage.Model;

/// <summary>Where an endpoint came from.</summary>
public static class EndpointSources
{
    public const string Api = "api";
    public const string CheckoutPreference = "checkout_preference";

    /// <summary>The operator's webhook, which receives Herald's own events.</summary>
    public const string Operator = "operator";
}

/// <summary>A URL that receives notifications, and how to deliver to it.</summary>
public sealed record Endpoint
{
    public required string Id { get; init; }
    public required string MerchantId { get; init; }
    public required string Url { get; init; }
    public string? Description { get; init; }
    public required PayloadFormat Format { get; init; }

    /// <summary>The event types it wants; <c>null</c> for every type its format notifies.</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }

    public required SuccessRule Success { get; init; }
    public required RetryPolicy Retry { get; init; }
    public required int TimeoutSeconds { get; init; }
    public bool Ordered { get; init; }

    /// <summary>Most attempts in flight to it at once on one node; <c>null</c> for no cap of its own.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Most attempts per second to it on one node; <c>null</c> for no limit.</summary>
    public int? RateLimit { get; init; }

    /// <summary>Headers of the merchant's own that every request to it carries; <c>null</c> for none.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>
    /// Whether it has headers kept that no key of this node's key ring reads (a data folder restored
    /// without its <c>keys/</c>, say): <see cref="Headers"/> is then <c>null</c>, nothing is sent to it,
    /// and a write that gives no headers keeps them as they are kept.
    /// </summary>
    public bool HeadersUnreadable { get; init; }
    public bool Enabled { get; init; } = true;
    public required string Source { get; init; }

    /// <summary>
    /// For endpoints made from a checkout preference: the preference that made it, the first at its
    /// URL. It receives only the orders of the preferences whose webhook it is: that one, and each made
    /// since at the URL it had then, which shares it (<see cref="CheckoutPreference.EndpointId"/>).
    /// </summary>
    public string? PreferenceId { get; init; }

    public string? DisabledReason { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>
    /// When the failures it has had since its last success began (the first of them, whichever node
    /// saw it): null while its last attempt succeeded. What auto-disable counts from.
    /// </summary>
    public DateTimeOffset? FailingSince { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// Its current secrets, newest first: as read, without the rotated ones still in their grace
    /// (<see cref="Abstractions.IHeraldStore.SigningSecretsAsync"/> gives every secret signing now).
    /// </summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>
    /// Whether an event of this type goes to this endpoint, for an entity whose checkout preference's
    /// webhook is the endpoint <paramref name="webhookEndpointId"/> (null for none): the merchant's own
    /// endpoints take every order, one a preference made only those of the preferences it serves.
    /// </summary>
    public bool Wants(string eventType, string? webhookEndpointId) =>
        (EventTypes is null || EventTypes.Contains(eventType))
        && (PreferenceId is null || string.Equals(Id, webhookEndpointId, StringComparison.Ordinal));
}
