using Herald.Entities;
using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

// What Herald keeps: claims, attempts' outcomes, resends, retention, erasure and endpoint health.
public partial interface IHeraldStore
{
    /// <summary>
    /// Makes up to <paramref name="limit"/> parked notifications (pending, with no time to be tried,
    /// written or left so while their endpoint was disabled) of now enabled endpoints due at
    /// <paramref name="now"/>; answers how many. A lost write only delays them to the next call.
    /// The same once-a-second round marks dead, as the delete would have, pending notifications
    /// committed for an endpoint just after it was deleted.
    /// </summary>
    Task<int> UnparkAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes up to <paramref name="limit"/> due pending notifications of enabled endpoints, leasing
    /// each for <paramref name="lease"/> in the same statement: if this worker dies the notification
    /// falls due again when the lease ends.
    /// </summary>
    Task<IReadOnlyList<ClaimedNotification>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads a notification for a manual attempt, whatever its status, with the secrets signing at
    /// <paramref name="now"/>; no lease is taken.
    /// </summary>
    Task<ClaimedNotification?> LoadForResendAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a scheduled attempt and moves the notification on; false (and nothing written) when the
    /// lease was lost to another worker.
    /// </summary>
    Task<bool> RecordScheduledAttemptAsync(AttemptOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records several scheduled attempts in one transaction (group commit); for each, whether it was
    /// recorded (false: its lease was lost, and nothing of it was written).
    /// </summary>
    Task<IReadOnlyList<bool>> RecordScheduledAttemptsAsync(IReadOnlyList<AttemptOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the merchant's notification, whatever its status, for a manual attempt: leases it to
    /// <paramref name="token"/> until <paramref name="until"/>, so that no scheduled attempt (nor
    /// another manual one) of it is made meanwhile, and answers it with the secrets signing at
    /// <paramref name="now"/>. When an attempt holds it now, answers until when instead; when it
    /// or its endpoint is gone, neither.
    /// </summary>
    Task<ResendLease> LeaseForResendAsync(string merchantId, string id, string token, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>Lets go of a manual attempt's lease (<see cref="LeaseForResendAsync"/>) when no attempt was made under it.</summary>
    Task ReleaseResendLeaseAsync(string id, string token, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a manual attempt: success marks the notification succeeded and starts its endpoint's
    /// days of failures over (<c>failing_since</c> cleared); a failure leaves its status and schedule
    /// as they were. The lease it was made under (<paramref name="leaseToken"/>), if any, ends; a
    /// success ends any other too (a scheduled attempt whose claim came after that lease ran out
    /// then records nothing: the notification has succeeded). A kept resend's <paramref name="step"/>,
    /// if given, is written in the same transaction: the request moved past the notification, or
    /// forgotten when that ends it (<see cref="ResendStep.Ends"/>), while <see cref="ResendStep.Owner"/> holds it.
    /// </summary>
    Task RecordManualAttemptAsync(Attempt attempt, string? leaseToken = null, CancellationToken cancellationToken = default, ResendStep? step = null);

    /// <summary>
    /// Keeps resends asked for until they are made, owned by <paramref name="owner"/> (a node) until
    /// <paramref name="ownedUntil"/>: all of them or none.
    /// </summary>
    Task AddResendsAsync(IReadOnlyList<ResendRequest> requests, string owner, DateTimeOffset ownedUntil, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps a recover's resends as <see cref="AddResendsAsync"/> does, less the notifications that
    /// the merchant's kept resends (of any node) have yet to send, read in the same transaction, one
    /// such call of a merchant's at a time on every node of the database: of two recovers asked at
    /// once, the second leaves out what the first kept. Answers the requests kept, each without what
    /// it left out; one left with nothing to send is not kept. The requests are new ones of
    /// <paramref name="merchantId"/>'s. An attempt under way of a kept resend named in
    /// <paramref name="underWayBefore"/> (<see cref="ResendsUnderWayAsync"/> read when the recover
    /// was asked) is not left out: it began before, and may fail; nor, for a run that stops at its
    /// first failure, is what follows it.
    /// </summary>
    Task<IReadOnlyList<ResendRequest>> AddResendsNotWaitingAsync(string merchantId, IReadOnlyList<ResendRequest> requests, string owner, DateTimeOffset ownedUntil, IReadOnlySet<string>? underWayBefore = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes up to <paramref name="limit"/> kept resends whose owner's hold has run out at
    /// <paramref name="now"/> (handed back, left by a lost node, or let go), the oldest first, for
    /// <paramref name="owner"/> until <paramref name="until"/>.
    /// </summary>
    Task<IReadOnlyList<ResendRequest>> ClaimResendsAsync(string owner, DateTimeOffset now, DateTimeOffset until, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends <paramref name="owner"/>'s hold on the given resends to <paramref name="until"/>;
    /// answers those it still owned (another node may have taken the rest).
    /// </summary>
    Task<IReadOnlyList<string>> RenewResendsAsync(string owner, IReadOnlyCollection<string> ids, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>Notes that the first <paramref name="done"/> notifications of a kept resend run were handled; false when <paramref name="owner"/> no longer owns it.</summary>
    Task<bool> AdvanceResendAsync(string id, string owner, int done, CancellationToken cancellationToken = default);

    /// <summary>
    /// Notes, before it starts, that the attempt of notification <paramref name="done"/> of a kept
    /// resend is under way, until the resend moves on, is forgotten, handed back or taken by
    /// another node; false when <paramref name="owner"/> no longer owns it.
    /// </summary>
    Task<bool> MarkResendUnderWayAsync(string id, string owner, int done, CancellationToken cancellationToken = default);

    /// <summary>The merchant's kept resends (of any node) whose attempt is under way (<see cref="MarkResendUnderWayAsync"/>).</summary>
    Task<IReadOnlySet<string>> ResendsUnderWayAsync(string merchantId, CancellationToken cancellationToken = default);

    /// <summary>Forgets a kept resend: it was made, or there is nothing left to make; false when <paramref name="owner"/> no longer owns it.</summary>
    Task<bool> RemoveResendAsync(string id, string owner, CancellationToken cancellationToken = default);

    /// <summary>Hands back every resend <paramref name="owner"/> still owns, for any node to take at once (a node stopping).</summary>
    Task ReleaseResendsAsync(string owner, CancellationToken cancellationToken = default);

    /// <summary>
    /// The merchant's notifications that kept resends (of any node) have yet to send: those not
    /// handled yet, less an attempt under way of a resend named in <paramref name="underWayBefore"/>
    /// (and what follows it in a run that stops at its first failure).
    /// </summary>
    Task<IReadOnlySet<string>> ResendingAsync(string merchantId, IReadOnlySet<string>? underWayBefore = null, CancellationToken cancellationToken = default);

    /// <summary>How many notifications are pending, and when the oldest of them was recorded.</summary>
    Task<(long Pending, DateTimeOffset? OldestCreatedAt)> QueueStatsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes up to <paramref name="batch"/> finished (succeeded or dead) notifications recorded
    /// and last attempted before <paramref name="cutoff"/>, with their attempts; returns how many went.
    /// </summary>
    Task<int> PurgeAsync(DateTimeOffset cutoff, int batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes, among the next <paramref name="window"/> events after <paramref name="after"/> (in
    /// id order; "" for the first) that happened before <paramref name="cutoff"/>, those that no
    /// notification refers to any more and that are not their entity's latest, with the
    /// idempotency keys that named them. Answers how many went, and the cursor for the next window
    /// (null once none is left). The entities stay, as they are now.
    /// </summary>
    Task<(int Deleted, string? Next)> PurgeEventsAsync(DateTimeOffset cutoff, string after, int window, CancellationToken cancellationToken = default);

    /// <summary>
    /// Erases everything a merchant's entities carried: entities, events, notifications and
    /// attempts, idempotency keys, resends waiting. The merchant, its keys and endpoints stay. False for an unknown merchant.
    /// </summary>
    Task<bool> EraseMerchantDataAsync(string merchantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Notes a failed attempt to an endpoint and returns since when it has had nothing but failures
    /// (the first failure after its last success, whichever node saw it).
    /// </summary>
    Task<DateTimeOffset> MarkEndpointFailingAsync(string endpointId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Notes a successful attempt to an endpoint: it is failing no longer.</summary>
    Task MarkEndpointHealthyAsync(string endpointId, CancellationToken cancellationToken = default);

    /// <summary>Records one of Herald's own events with its notifications to the operator's endpoints, in one transaction.</summary>
    Task RecordOperatorEventAsync(OperatorEvent evt, IReadOnlyList<NewNotification> notifications, CancellationToken cancellationToken = default);

    /// <summary>Gives claimed notifications back so that they are due at once (graceful shutdown).</summary>
    Task ReleaseAsync(IReadOnlyCollection<(string Id, string LeaseToken)> claims, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Gives claimed notifications back, each due at its own time (held back by its endpoint's limits).</summary>
    Task ReleaseAsync(IReadOnlyCollection<(string Id, string LeaseToken, DateTimeOffset DueAt)> claims, CancellationToken cancellationToken = default);
}
