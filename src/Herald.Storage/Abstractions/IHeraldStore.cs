using Herald.Entities;
using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

/// <summary>
/// Everything Herald keeps. One contract; each database implements it and passes the same
/// compliance suite.
/// </summary>
public interface IHeraldStore
{
    /// <summary>Brings the schema up to date; returns the names of the migrations it applied.</summary>
    Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// How many write transactions are worth running at once: one for a database with a single
    /// writer (SQLite), several where concurrent transactions overlap their round trips (PostgreSQL).
    /// </summary>
    int WriteConcurrency { get; }

    /// <summary>
    /// Whether a write does its work on the calling thread and returns done (SQLite's calls are
    /// synchronous), rather than waiting on the network: the hot path's writer then keeps a thread
    /// of its own instead of taking turns on the thread pool.
    /// </summary>
    bool WritesOnCallingThread { get; }

    /// <summary>Checks that the database answers.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Null when the database answers; otherwise what keeps it from answering, in a few words
    /// (<c>unreachable</c>, <c>out of connections</c>, <c>file gone</c>: <see cref="DatabaseTroubleWords.Status"/>), as <c>/readyz</c> says it.
    /// </summary>
    Task<string?> DiagnoseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Why the database cannot be used now, when <paramref name="error"/> (or what it wraps) is its
    /// driver saying so (unreachable, out of connections, disk full, read-only, a file that cannot be
    /// used); null for any other failure, which is a fault of Herald's or of the request.
    /// </summary>
    DatabaseTrouble? TroubleOf(Exception error);

    Task CreateMerchantAsync(Merchant merchant, ApiKey key, CancellationToken cancellationToken = default);

    Task<Merchant?> GetMerchantAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>One page of the merchants, newest first (the operator's own reserved merchant left out).</summary>
    Task<Page<Merchant>> ListMerchantsAsync(int limit, string? startingAfter, string? endingBefore, CancellationToken cancellationToken = default);

    /// <summary>Gives a merchant another name; false when there is no such merchant (or it is the operator's own).</summary>
    Task<bool> RenameMerchantAsync(string id, string name, CancellationToken cancellationToken = default);

    /// <summary>The keys with any of these hashes, revoked or not, in one look-up.</summary>
    Task<IReadOnlyList<ApiKey>> FindApiKeysByHashAsync(IReadOnlyCollection<string> keyHashes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a key unless its merchant holds <paramref name="maxActive"/> unrevoked keys already
    /// (false then, nothing written). Concurrent calls for one merchant never take it past the bound.
    /// </summary>
    Task<bool> CreateApiKeyAsync(ApiKey key, int maxActive, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the merchant's keys (their hashes, never the keys), revoked ones included, newest
    /// first (see <see cref="ListPreferencesAsync"/>'s cursors): revoked keys stay, so there may be many.
    /// </summary>
    Task<Page<ApiKey>> ListApiKeysPageAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken = default);

    /// <summary>One of the merchant's keys, revoked or not; null when it has no key of that id.</summary>
    Task<ApiKey?> GetApiKeyAsync(string merchantId, string id, CancellationToken cancellationToken = default);

    /// <summary>Revokes a key at once; false when the merchant has no such unrevoked key.</summary>
    Task<bool> RevokeApiKeyAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Notes that the portal session with this id's hash was ended (signed out) at
    /// <paramref name="at"/>, and forgets sessions ended before <paramref name="forgetBefore"/>
    /// (which could not be used any more anyway).
    /// </summary>
    Task EndPortalSessionAsync(string sessionHash, DateTimeOffset at, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends every portal session of the merchant signed in at <paramref name="at"/> or before,
    /// whether a key or a link signed it in, and voids the merchant's unused sign-in links.
    /// </summary>
    Task EndMerchantPortalSessionsAsync(string merchantId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether a portal session still stands, in one read: the API key it was signed in with (by
    /// its hash) is still the merchant's and not revoked, the session (by its id's hash) was not
    /// ended, and it was signed in (at <paramref name="signedInAt"/>) after the merchant's sessions
    /// were last ended. Answers the merchant's name as it is now (renamed since the sign-in, say),
    /// or null when the session does not stand.
    /// </summary>
    Task<string?> PortalSessionMerchantNameAsync(string merchantId, string keyHash, string sessionHash, DateTimeOffset signedInAt,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether a portal session signed in by a link still stands, in one read: its merchant exists,
    /// the session (by its id's hash) was not ended, and it was signed in (at
    /// <paramref name="signedInAt"/>) after the merchant's sessions were last ended. Answers the
    /// merchant's name as it is now, or null when the session does not stand.
    /// </summary>
    Task<string?> PortalLinkSessionMerchantNameAsync(string merchantId, string sessionHash, DateTimeOffset signedInAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Keeps a one-time portal sign-in link for the merchant, by its token's hash, usable until
    /// <paramref name="expiresAt"/>; links that expired before <paramref name="forgetBefore"/> are removed.
    /// </summary>
    Task CreatePortalLinkAsync(string tokenHash, string merchantId, DateTimeOffset createdAt, DateTimeOffset expiresAt, DateTimeOffset forgetBefore,
        CancellationToken cancellationToken = default);

    /// <summary>The merchant an unused link not expired at <paramref name="now"/> signs in to; null for any other link. Uses nothing up.</summary>
    Task<Merchant?> PortalLinkMerchantAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uses a link up: marks it used at <paramref name="now"/> when it is unused and not expired, in
    /// one statement, so that of links used at once (on any node) exactly one succeeds. Answers its
    /// merchant, or null when the link is unknown, used or expired (nothing changed).
    /// </summary>
    Task<string?> UsePortalLinkAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken = default);

    Task CreateEndpointAsync(Endpoint endpoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds an endpoint unless its merchant has <paramref name="maxEndpoints"/> of its own already
    /// (false then, nothing written): endpoints it made, not those its checkout preferences made
    /// (each of which receives only the orders of the preferences at its URL). Concurrent calls for one merchant never
    /// take it past the bound. With <paramref name="idempotency"/>, the merchant's key is taken for the
    /// endpoint in the same transaction, and nothing is written when another request took it first.
    /// </summary>
    Task<Creation> CreateEndpointWithinAsync(Endpoint endpoint, int maxEndpoints, (string Key, string RequestHash)? idempotency = null,
        CancellationToken cancellationToken = default);

    Task<Endpoint?> GetEndpointAsync(string merchantId, string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Endpoint>> ListEndpointsAsync(string merchantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The merchant's own endpoints, not those its checkout preferences made (of which there may be
    /// many, one a webhook URL): at most 100. Without their secrets and headers (none decrypted).
    /// </summary>
    Task<IReadOnlyList<Endpoint>> ListOwnEndpointsBareAsync(string merchantId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Those of <paramref name="ids"/> that are the merchant's endpoints (deleted ones left out), without
    /// their secrets and headers: what a page names for the rows it shows, however many endpoints there are.
    /// </summary>
    Task<IReadOnlyList<Endpoint>> GetEndpointsBareAsync(string merchantId, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the merchant's endpoints, newest first (see <see cref="ListPreferencesAsync"/>'s
    /// cursors), with their headers but not their secrets: what a listing shows. With
    /// <paramref name="preferencesOnly"/>, only those its checkout preferences made.
    /// </summary>
    Task<Page<Endpoint>> ListEndpointsPageAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        bool preferencesOnly = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves an endpoint's settings; false when it does not exist (or was deleted) or, given
    /// <paramref name="expectedUpdatedAt"/>, when it was written since it was read at that time
    /// (a pause, Herald disabling it): nothing is written then. Enabling a disabled endpoint also
    /// forgets since when it has been failing.
    /// </summary>
    Task<bool> UpdateEndpointAsync(Endpoint endpoint, DateTimeOffset? expectedUpdatedAt = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Disables an enabled endpoint (410 Gone, days of failures), saying why and when; false when it
    /// was not enabled.
    /// </summary>
    Task<bool> DisableEndpointAsync(string endpointId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes an endpoint: it receives nothing more and its pending notifications die; its history
    /// stays readable.
    /// </summary>
    Task<bool> DeleteEndpointAsync(string merchantId, string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a new signing secret; the ones signing now keep signing until <paramref name="previousUntil"/>
    /// (those whose grace ends sooner keep their end; at <paramref name="now"/>, they all stop). Refused,
    /// nothing changed, when that would have more than <paramref name="maxSigning"/> secrets sign at
    /// once. Secrets whose grace has ended are not counted, and go. Concurrent rotations of one
    /// endpoint never take it past the bound.
    /// </summary>
    Task<SecretRotation> RotateSecretAsync(string merchantId, string endpointId, string secret, DateTimeOffset now, DateTimeOffset previousUntil, int maxSigning,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The secrets that sign a request to the endpoint at <paramref name="now"/>, newest first, as
    /// a delivery is given them (a rotated secret signs until its grace ends); empty when there is
    /// no such endpoint.
    /// </summary>
    Task<IReadOnlyList<string>> SigningSecretsAsync(string endpointId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// The merchant's endpoints of one payload format, paused and disabled ones included: their
    /// notifications are recorded and wait, and are delivered once the endpoint is enabled again.
    /// Without their secrets or headers: recording a change decides where it goes, it sends nothing.
    /// </summary>
    Task<IReadOnlyList<Endpoint>> ListEndpointsForFormatAsync(string merchantId, Endpoints.PayloadFormat format, CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves a preference and, when it names a webhook (<paramref name="endpoint"/>), the endpoint its
    /// orders are notified at, in one transaction: the merchant's endpoint, not deleted, that a
    /// preference made at that URL (as the endpoint has it now; the oldest, if several), or else
    /// <paramref name="endpoint"/>, written then. Answers the preference as saved, its endpoint id
    /// the one it shares or <paramref name="endpoint"/>'s. Concurrent calls for one merchant make one
    /// endpoint of a URL. With <paramref name="idempotency"/>, the merchant's key taken for the
    /// preference in the transaction too: null, nothing written, when another request took it first.
    /// </summary>
    Task<CheckoutPreference?> CreatePreferenceAsync(CheckoutPreference preference, Endpoint? endpoint, (string Key, string RequestHash)? idempotency = null,
        CancellationToken cancellationToken = default);

    Task<CheckoutPreference?> GetPreferenceAsync(string merchantId, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The endpoint the merchant's preference notifies its orders at (deleted since, maybe), without
    /// reading the preference's document: null for a preference without a webhook, or none of that id.
    /// Chosen when the preference is made and never changed, it may be answered from memory.
    /// </summary>
    Task<string?> PreferenceEndpointIdAsync(string merchantId, string preferenceId, CancellationToken cancellationToken = default);

    /// <summary>One page of the merchant's checkout preferences, newest first.</summary>
    Task<Page<CheckoutPreference>> ListPreferencesAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken = default);

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
