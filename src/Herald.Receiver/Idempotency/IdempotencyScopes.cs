using System.Runtime.CompilerServices;

namespace Herald.Receiver.Idempotency;

/// <summary>
/// The key a receiver stores a <c>webhook-id</c> under, and which store and scope each receiver of
/// an app uses. Herald sends an event under one <c>webhook-id</c> to every endpoint that receives it,
/// so two receivers keying ids alike in one store would each take the other's notifications as
/// handled; mapping the second fails instead, while the app starts.
/// </summary>
internal static class IdempotencyScopes
{
    private sealed record Receiver(IIdempotencyStore Store, string? Scope, string Pattern);

    /// <summary>The receivers mapped so far, per app (its root services, shared by its route groups).</summary>
    private static readonly ConditionalWeakTable<IServiceProvider, List<Receiver>> Apps = [];

    /// <summary>
    /// The key of <paramref name="webhookId"/> in the store: the id itself without a scope, as the kit
    /// stored it before scopes, so the ids a receiver handled then are still recognised. Herald's ids
    /// have no colon, so a scoped key never equals an unscoped one.
    /// </summary>
    public static string Key(string? scope, string webhookId) => scope is null ? webhookId : scope + ":" + webhookId;

    /// <summary>Notes the receiver at <paramref name="pattern"/>, or fails when another of the app keys ids alike in the same store.</summary>
    public static void Register(IServiceProvider app, IIdempotencyStore store, string? scope, string pattern)
    {
        if (scope is not null && string.IsNullOrWhiteSpace(scope))
        {
            throw new ArgumentException(
                $"MapHeraldWebhooks(\"{pattern}\"): IdempotencyScope is blank; name the receiver (e.g. \"orders\") or leave it null", nameof(scope));
        }
        var receivers = Apps.GetValue(app, _ => []);
        lock (receivers)
        {
            if (receivers.Find(r => ReferenceEquals(r.Store, store) && r.Scope == scope) is { } other)
            {
                throw new InvalidOperationException(
                    $"MapHeraldWebhooks(\"{pattern}\") uses the same IdempotencyStore as MapHeraldWebhooks(\"{other.Pattern}\") with "
                    + (scope is null ? "no IdempotencyScope" : $"the same IdempotencyScope \"{scope}\"")
                    + ". Herald sends an event under one webhook-id to every endpoint that receives it, so each receiver would skip the other's "
                    + "notifications as already handled. Give each receiver its own HeraldWebhookOptions.IdempotencyScope (one may keep none, "
                    + "so the ids it handled before are still recognised), or its own store.");
            }
            receivers.Add(new Receiver(store, scope, pattern));
        }
    }
}
