using Herald.Entities;

namespace Herald.Storage.Model;

public static class NotificationStatuses
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Dead = "dead";

    public static IReadOnlyList<string> All { get; } = [Pending, Succeeded, Dead];
}

public static class AttemptTriggers
{
    public const string Schedule = "schedule";
    public const string Manual = "manual";
}

/// <summary>One event for one endpoint, and where its delivery stands.</summary>
public sealed record Notification
{
    public required string Id { get; init; }
    public required string MerchantId { get; init; }
    public required string EventId { get; init; }
    public required string EndpointId { get; init; }
    public required EntityKind EntityKind { get; init; }
    public required string EntityId { get; init; }
    public required string EventType { get; init; }

    /// <summary>The entity's version this notification tells of: an entity's notifications go out in this order.</summary>
    public long EntityVersion { get; init; }
    public required string Status { get; init; }
    public int AttemptCount { get; init; }
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SucceededAt { get; init; }

    /// <summary>The exact body sent on every attempt.</summary>
    public string? Payload { get; init; }
}

/// <summary>A notification to write with the change that caused it.</summary>
/// <param name="Id">Its id.</param>
/// <param name="EndpointId">Where it goes.</param>
/// <param name="Payload">The exact body.</param>
/// <param name="Immediate">
/// Its endpoint is enabled and takes notifications in any order, so the node that writes it may
/// lease it in the same transaction and send it at once.
/// </param>
/// <param name="Parked">
/// Its endpoint is disabled: it is written pending with no time to be tried (out of the claims'
/// way), and falls due when the endpoint is enabled again.
/// </param>
public sealed record NewNotification(string Id, string EndpointId, string Payload, bool Immediate = false, bool Parked = false)
{
    /// <summary>
    /// The lease it is written under when its transaction leases its immediate notifications with
    /// <paramref name="lease"/>: that lease if it is immediate, none otherwise.
    /// </summary>
    public NotificationLease? HeldBy(NotificationLease? lease) => Immediate ? lease : null;

    /// <summary>
    /// Whether, written with <paramref name="lease"/>, it is left for a claim: neither held under
    /// the lease (its writer sends it) nor parked (it waits for its endpoint), so the nodes' delivery
    /// loops are to be woken for it.
    /// </summary>
    public bool LeftToClaim(NotificationLease? lease) => HeldBy(lease) is null && !Parked;
}

/// <summary>One HTTP try of a notification.</summary>
public sealed record Attempt(
    string Id,
    string NotificationId,
    int Number,
    string Trigger,
    DateTimeOffset StartedAt,
    int DurationMs,
    int? StatusCode,
    bool Succeeded,
    string? Error,
    string? ResponseExcerpt);
