using Herald.Endpoints;
using Herald.Retry;
using Herald.Storage.Abstractions;

namespace Herald.Storage.Model;

/// <summary>
/// A notification taken for an attempt: everything the sender needs, and the lease token that
/// proves the claim is still this worker's when the outcome is recorded.
/// </summary>
public sealed record ClaimedNotification
{
    public required string Id { get; init; }
    public required string MerchantId { get; init; }
    public required string EventId { get; init; }
    public required string EndpointId { get; init; }
    public required string Url { get; init; }
    public required PayloadFormat Format { get; init; }
    public required SuccessRule Success { get; init; }
    public required RetryPolicy Retry { get; init; }
    public required int TimeoutSeconds { get; init; }

    /// <summary>
    /// The endpoint's own timeout when the node's lease cut <see cref="TimeoutSeconds"/> below it (an
    /// attempt ends inside its lease, or another node could send it again meanwhile); null otherwise.
    /// </summary>
    public int? TimeoutCutFrom { get; init; }

    /// <summary>The endpoint's own cap on attempts in flight, if it has one.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>The endpoint's own limit of attempts per second, if it has one.</summary>
    public int? RateLimit { get; init; }

    /// <summary>The endpoint's headers of its own, sent with every request to it; <c>null</c> for none.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Whether the endpoint was ordered (each entity's notifications one at a time, in order) when this was taken.</summary>
    public bool Ordered { get; init; }

    /// <summary>The W3C trace context of the change that caused it, so its delivery joins that trace.</summary>
    public string? TraceParent { get; init; }

    public required IReadOnlyList<string> Secrets { get; init; }
    public required string Payload { get; init; }
    public required string Status { get; init; }
    public required int AttemptCount { get; init; }
    public required int Failures { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The token of the lease it is held under (a claim's, or a manual attempt's); <c>null</c> when it was only read.</summary>
    public string? LeaseToken { get; init; }
}

/// <summary>
/// A notification taken for a manual attempt (<c>IHeraldStore.LeaseForResendAsync</c>): leased to
/// the attempt, or held by another attempt until <paramref name="HeldUntil"/>, or gone (neither set).
/// </summary>
public sealed record ResendLease(ClaimedNotification? Notification, DateTimeOffset? HeldUntil)
{
    /// <summary>The notification, or its endpoint, no longer exists.</summary>
    public static ResendLease Gone { get; } = new(null, null);
}

/// <summary>
/// The result of one attempt and where it leaves the notification.
/// </summary>
/// <param name="Attempt">The attempt to record.</param>
/// <param name="Status">The notification's status after it.</param>
/// <param name="NextAttemptAt">When it is tried next, for a pending one.</param>
/// <param name="CountsAsFailure">Whether it adds to the failures the retry schedule counts.</param>
/// <param name="LeaseToken">The claim's token; the outcome is dropped if the lease was lost.</param>
public sealed record AttemptOutcome(
    Attempt Attempt,
    string Status,
    DateTimeOffset? NextAttemptAt,
    bool CountsAsFailure,
    string? LeaseToken);

/// <summary>A lease under which new notifications are written, for the writing node to send them at once.</summary>
/// <param name="Token">The claim's token, as a claim would set it.</param>
/// <param name="Until">When the lease ends and the notifications fall due for anyone.</param>
public sealed record NotificationLease(string Token, DateTimeOffset Until);

/// <summary>More changes and outcomes for a batch's transaction, written after what it had (see <c>IHeraldStore.WriteBatchAsync</c>).</summary>
/// <param name="Changes">Changes, each all or nothing on its own.</param>
/// <param name="Outcomes">Scheduled attempts' outcomes.</param>
/// <param name="Lease">The lease this round's immediate notifications are written under, if any.</param>
public sealed record WriteRound(IReadOnlyList<EntityChange> Changes, IReadOnlyList<AttemptOutcome> Outcomes, NotificationLease? Lease);

/// <summary>A notification just written under a <see cref="NotificationLease"/>, as the writer knows it.</summary>
public sealed record LeasedNotification(
    string Id,
    string MerchantId,
    string EventId,
    string EndpointId,
    string Payload,
    DateTimeOffset CreatedAt,
    string? TraceParent,
    string LeaseToken,
    DateTimeOffset LeasedUntil);

/// <summary>
/// Resends asked for and not yet all made: one notification, or an ordered endpoint's recover run
/// sent one at a time in the order of <paramref name="NotificationIds"/>.
/// </summary>
/// <param name="Id">The request's id.</param>
/// <param name="MerchantId">Whose notifications they are.</param>
/// <param name="NotificationIds">The notifications, in the order they are sent.</param>
/// <param name="StopAtFailure">Whether the run ends at its first failed attempt (an ordered endpoint's).</param>
/// <param name="Done">How many of them, from the first, were handled already.</param>
/// <param name="CreatedAt">When it was asked for.</param>
/// <param name="OnlyFailed">Whether a notification that has succeeded by its turn is left unsent (a recover's: it asks for what failed).</param>
public sealed record ResendRequest(string Id, string MerchantId, IReadOnlyList<string> NotificationIds, bool StopAtFailure, int Done, DateTimeOffset CreatedAt, bool OnlyFailed = false);

/// <summary>
/// Where a kept resend stands once one of its notifications' attempt is recorded, written in that
/// attempt's transaction: a node killed between the two would otherwise send the notification again.
/// </summary>
/// <param name="ResendId">The kept request.</param>
/// <param name="Owner">The node holding it: nothing is written when another holds it now.</param>
/// <param name="Index">The notification's place in the request.</param>
/// <param name="Count">How many notifications the request has.</param>
/// <param name="StopAtFailure">Whether the run ends at a failed attempt.</param>
public sealed record ResendStep(string ResendId, string Owner, int Index, int Count, bool StopAtFailure)
{
    /// <summary>Whether the request is over once an attempt ending so is recorded: its last notification, or a failure of a run that stops at one.</summary>
    public bool Ends(bool succeeded) => Index + 1 >= Count || (StopAtFailure && !succeeded);
}
