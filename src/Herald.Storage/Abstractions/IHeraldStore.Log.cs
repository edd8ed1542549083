using Herald.Entities;
using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

// What Herald keeps: entities, their events and notifications, attempts, and delivery stats.
public partial interface IHeraldStore
{
    Task<Entity?> GetEntityAsync(string merchantId, EntityKind kind, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The transactional outbox: writes the entity at its new version, its event and its
    /// notifications in one transaction, or nothing.
    /// </summary>
    Task<CommitResult> CommitChangeAsync(EntityChange change, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several changes in one transaction (group commit), each all or nothing on its own: a
    /// change that meets a conflict is left out and says so; the others commit together.
    /// </summary>
    Task<IReadOnlyList<CommitResult>> CommitChangesAsync(IReadOnlyList<EntityChange> changes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Group commit of everything delivery's hot path writes: several changes (as
    /// <see cref="CommitChangesAsync"/>) and several scheduled attempts (as
    /// <see cref="RecordScheduledAttemptsAsync"/>) in one transaction. With a <paramref name="lease"/>,
    /// the new notifications marked <see cref="NewNotification.Immediate"/> are written already leased
    /// under it, for the writing node to send at once without claiming them; should it never record
    /// their attempts, they fall due when the lease ends.
    /// </summary>
    /// <param name="changes">The changes.</param>
    /// <param name="outcomes">The scheduled attempts' outcomes.</param>
    /// <param name="lease">The lease the immediate notifications are written under, if any.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <param name="more">
    /// Where the store writes a batch statement by statement with one writer (SQLite): asked, once
    /// what it has is written and before it commits, for another round to write in the same
    /// transaction, and again after each round until it answers <c>null</c>, so that what arrived
    /// meanwhile shares the commit rather than waiting for the next. The answers cover every round,
    /// in order. A store that writes batches in one round trip (PostgreSQL) never asks.
    /// </param>
    Task<(IReadOnlyList<CommitResult> Changes, IReadOnlyList<bool> Attempts)> WriteBatchAsync(
        IReadOnlyList<EntityChange> changes, IReadOnlyList<AttemptOutcome> outcomes, NotificationLease? lease = null, CancellationToken cancellationToken = default,
        Func<WriteRound?>? more = null);

    /// <summary>
    /// Makes notifications written under a lease (see <see cref="WriteBatchAsync"/>) ready to send: their
    /// endpoints joined in, with the secrets signing at <paramref name="now"/>. Those whose endpoint is
    /// no longer enabled are left out, their lease still held.
    /// </summary>
    Task<IReadOnlyList<ClaimedNotification>> LoadLeasedAsync(IReadOnlyList<LeasedNotification> leased, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claimed notifications with their endpoints as they stand now (as this store knows them, its
    /// endpoints kept up to date with every endpoint write): URL, limits, headers and the secrets
    /// signing at <paramref name="now"/> read afresh. Those whose endpoint no longer takes deliveries
    /// (paused, disabled, deleted), or was made ordered since they were taken, are left out, their
    /// lease still held.
    /// </summary>
    Task<IReadOnlyList<ClaimedNotification>> RefreshClaimsAsync(IReadOnlyList<ClaimedNotification> claimed, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The event an idempotency key already produced, with the hash of the request that made it.</summary>
    Task<(string EventId, string RequestHash)?> FindIdempotencyKeyAsync(string merchantId, string key, CancellationToken cancellationToken = default);

    Task<EntityEvent?> GetEventAsync(string merchantId, string id, CancellationToken cancellationToken = default);

    /// <summary>Recorded changes, newest first: older ones after <paramref name="startingAfter"/>, or the newer ones just before <paramref name="endingBefore"/>.</summary>
    Task<Page<EntityEvent>> ListEventsAsync(string merchantId, string? entityId, int limit, string? startingAfter,
        string? endingBefore = null, CancellationToken cancellationToken = default);

    Task<Page<Notification>> ListNotificationsAsync(string merchantId, NotificationQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many of the merchant's notifications match the query's filters, by status (every status
    /// present, zero included); the query's own status and cursor are ignored. With
    /// <paramref name="newest"/>, only that many of the newest that match are counted, so the work
    /// does not grow with the merchant's whole log (the counts then add up to at most it).
    /// </summary>
    Task<IReadOnlyDictionary<string, long>> CountNotificationsByStatusAsync(string merchantId, NotificationQuery query, int? newest = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The merchant's attempts that started in [<paramref name="since"/>, <paramref name="until"/>):
    /// per hour by outcome, and per endpoint with success rate and p50/p95 latency. The figures of
    /// each whole hour in the window whose attempts have all been recorded by <paramref name="now"/>
    /// are kept once worked out, and read from then on instead of its attempts.
    /// </summary>
    Task<DeliveryStats> DeliveryStatsAsync(string merchantId, DateTimeOffset since, DateTimeOffset until, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>One notification with its payload.</summary>
    Task<Notification?> GetNotificationAsync(string merchantId, string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Attempt>> ListAttemptsAsync(string notificationId, CancellationToken cancellationToken = default);
}
