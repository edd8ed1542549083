using System.Text.Json.Nodes;

namespace Herald.Storage.Model;

/// <summary>
/// A checkout preference (seed 001). Its <c>custom_urls.status_changes_webhook</c> is the endpoint
/// <see cref="EndpointId"/>: one of its own, or the one an earlier preference of its merchant made at
/// the same URL, which the preferences at that URL share, one secret signing all their orders' events.
/// </summary>
public sealed record CheckoutPreference(string Id, string MerchantId, JsonObject Document, string? EndpointId, DateTimeOffset CreatedAt);
