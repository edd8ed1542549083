using Herald.Entities;
using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

/// <summary>
/// Everything Herald keeps. One contract; each database implements it and passes the same
/// compliance suite.
/// </summary>
public partial interface IHeraldStore
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
}
