using System.Collections.Concurrent;
using Dapper;
using Herald.Endpoints;
using Herald.Payloads;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    public async Task<CheckoutPreference?> CreatePreferenceAsync(CheckoutPreference preference, Endpoint? endpoint, (string Key, string RequestHash)? idempotency = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preference);
        await using var scope = await BeginWriteAsync(cancellationToken);
        if (idempotency is { } key && !await TakeIdempotencyKeyAsync(scope, preference.MerchantId, key, preference.Id, preference.CreatedAt, cancellationToken))
        {
            return null;
        }
        var made = false;
        if (endpoint is not null)
        {
            // The merchant's endpoint writes take turns (as its own endpoints' creates do): two
            // preferences of a new URL made at once, on one node or two, make one endpoint, the
            // second finding the first's once it has committed.
            await TakeMerchantsTurnAsync(scope, preference.MerchantId, cancellationToken);
            var shared = await scope.Connection.ExecuteScalarAsync<string?>(scope.Command(
                // The oldest: where an earlier release made one per preference, the first at the URL.
                $"""
                SELECT id FROM endpoints
                WHERE merchant_id = @merchant_id AND format = @format AND preference_id IS NOT NULL AND url = @url AND deleted_at IS NULL
                ORDER BY id LIMIT 1{LockedToJoin}
                """,
                new { merchant_id = preference.MerchantId, format = endpoint.Format.ApiName(), url = endpoint.Url }, cancellationToken));
            if (shared is null)
            {
                await InsertEndpointAsync(scope, endpoint, cancellationToken);
                made = true;
            }
            preference = preference with { EndpointId = shared ?? endpoint.Id };
        }
        await scope.Connection.ExecuteAsync(scope.Command(
            "INSERT INTO checkout_preferences (id, merchant_id, document, endpoint_id, created_at) VALUES (@id, @merchant_id, @document, @endpoint_id, @created_at)",
            new
            {
                id = preference.Id,
                merchant_id = preference.MerchantId,
                document = JsonText.Of(preference.Document),
                endpoint_id = preference.EndpointId,
                created_at = Time.Ms(preference.CreatedAt),
            }, cancellationToken));
        await CommitEndpointWriteAsync(scope, made, cancellationToken);
        KeepPreferenceEndpoint(preference.MerchantId, preference.Id, preference.EndpointId);
        return preference;
    }

    /// <summary>
    /// Where other nodes write endpoints at once (PostgreSQL; SQLite's one writer makes each write
    /// whole): holds the endpoint a preference joins until the preference is written, so that a
    /// delete of it waits and the preference joins one that is still there when it commits. A delete
    /// that marked it first is waited for, and then the endpoint is passed over (the next oldest at
    /// the URL taken, or a new one made): joining it, the preference would notify its orders at an
    /// endpoint deleted before it was made.
    /// </summary>
    protected virtual string LockedToJoin => "";

    public async Task<CheckoutPreference?> GetPreferenceAsync(string merchantId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<PreferenceRow>(Read(
            "SELECT id, merchant_id, document, endpoint_id, created_at FROM checkout_preferences WHERE id = @id AND merchant_id = @merchantId",
            new { id, merchantId }, cancellationToken));
        if (row is not null)
        {
            // An order's create reads its preference first, and its changes are recorded next.
            KeepPreferenceEndpoint(merchantId, id, row.endpoint_id);
        }
        return row?.ToModel();
    }

    // Most preferences whose endpoint is kept in memory; past it the cache starts over.
    private const int PreferenceEndpointCacheLimit = 10_000;

    // Kept as finished tasks, as every change of an order of a preference asks. A preference's
    // endpoint is chosen once, when it is made, and never changes (deleted, it stays the one named):
    // what any node read once holds on every node, with nothing to announce. Whether an endpoint is
    // deleted is told by the endpoints listed for recording, never by this link.
    private readonly ConcurrentDictionary<(string MerchantId, string PreferenceId), Task<string?>> _preferenceEndpoints = new();

    private void KeepPreferenceEndpoint(string merchantId, string preferenceId, string? endpointId)
    {
        if (_preferenceEndpoints.Count >= PreferenceEndpointCacheLimit)
        {
            _preferenceEndpoints.Clear();
        }
        _preferenceEndpoints[(merchantId, preferenceId)] = Task.FromResult(endpointId);
    }

    public Task<string?> PreferenceEndpointIdAsync(string merchantId, string preferenceId, CancellationToken cancellationToken = default) =>
        _preferenceEndpoints.TryGetValue((merchantId, preferenceId), out var kept) ? kept : ReadPreferenceEndpointIdAsync(merchantId, preferenceId, cancellationToken);

    private async Task<string?> ReadPreferenceEndpointIdAsync(string merchantId, string preferenceId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var found = (await connection.QueryAsync<string?>(Read(
            "SELECT endpoint_id FROM checkout_preferences WHERE id = @preferenceId AND merchant_id = @merchantId",
            new { preferenceId, merchantId }, cancellationToken))).AsList();
        if (found.Count == 0)
        {
            // None of that id (yet, as another node may be making it): nothing kept.
            return null;
        }
        KeepPreferenceEndpoint(merchantId, preferenceId, found[0]);
        return found[0];
    }

    public async Task<Page<CheckoutPreference>> ListPreferencesAsync(string merchantId, int limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken = default) =>
        await ReadPageAsync<PreferenceRow, CheckoutPreference>("SELECT id, merchant_id, document, endpoint_id, created_at FROM checkout_preferences",
            new SqlFilter("merchant_id = @merchantId", new { merchantId }), limit, startingAfter, endingBefore,
            row => row.ToModel(), cancellationToken, sized: ("checkout_preferences", "document"));
}
