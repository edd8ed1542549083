using System.Text.Json.Nodes;

namespace Herald.Storage.Model;

/// <summary>A checkout preference (seed 001); its <c>custom_urls.status_changes_webhook</c> becomes an endpoint.</summary>
public sealed record CheckoutPreference(string Id, string MerchantId, JsonObject Document, string? EndpointId, DateTimeOffset CreatedAt);
