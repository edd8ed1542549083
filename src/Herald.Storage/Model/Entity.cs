using System.Text.Json.Nodes;
using Herald.Entities;

namespace Herald.Storage.Model;

/// <summary>A payment entity at one version.</summary>
public sealed record Entity(
    EntityKind Kind,
    string Id,
    string MerchantId,
    string State,
    int Version,
    string? PreferenceId,
    JsonObject Document,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
