using Herald.Entities;
using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

// What Herald keeps: endpoints, their secrets, and checkout preferences.
public partial interface IHeraldStore
{
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
}
