using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Retry;
using Herald.Storage.Model;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Api;

// What the API answers, snake_case; times are ISO 8601 UTC. (An entity is answered as its document, in its seed's own
// form: a point intent's created_at is seed 000's "yyyy-MM-dd HH:mm:ss", in UTC.)

public sealed record ListResponse<T>(IReadOnlyList<T> Data, bool HasMore);

public sealed record MerchantResponse(
    string Id,
    string Name,
    string CreatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ApiKey = null)
{
    public static MerchantResponse From(Merchant merchant)
    {
        ArgumentNullException.ThrowIfNull(merchant);
        return new(merchant.Id, merchant.Name, EndpointResponse.Time(merchant.CreatedAt));
    }
}

/// <summary>A portal sign-in link: signs in once, until <see cref="ExpiresAt"/>; shown once.</summary>
public sealed record PortalLinkResponse(string Url, string ExpiresAt);

public sealed record EndpointResponse(
    string Id,
    string Url,
    string? Description,
    string Format,
    IReadOnlyList<string>? EventTypes,
    string Success,
    string Retry,
    int TimeoutSeconds,
    bool Ordered,
    int? MaxConcurrency,
    int? RateLimit,
    IReadOnlyDictionary<string, string>? Headers,
    bool Enabled,
    string Source,
    string? PreferenceId,
    string? DisabledReason,
    string? DisabledAt,
    string? FailingSince,
    string CreatedAt,
    string UpdatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
{
    public static EndpointResponse From(Endpoint e, bool withSecret = false) => new(
        e.Id, e.Url, e.Description, e.Format.ApiName(), e.EventTypes, e.Success.ApiName(), e.Retry.ApiName(),
        e.TimeoutSeconds, e.Ordered, e.MaxConcurrency, e.RateLimit, HiddenHeaders.Hide(e.Headers), e.Enabled, e.Source, e.PreferenceId, e.DisabledReason, Time(e.DisabledAt),
        Time(e.FailingSince), Time(e.CreatedAt), Time(e.UpdatedAt), withSecret ? e.Secrets.FirstOrDefault() : null);

    internal static string Time(DateTimeOffset t) => EntityDocuments.FormatApiTime(t);

    internal static string? Time(DateTimeOffset? t) => t is null ? null : EntityDocuments.FormatApiTime(t.Value);
}

/// <summary>
/// A checkout preference; <c>secret</c>, the signing secret of its webhook's endpoint (which the
/// preferences at one URL share), only in the answer to its create.
/// </summary>
public sealed record PreferenceResponse(
    string Id, JsonObject? CustomUrls, string? ExternalReference, JsonNode? Items, string? EndpointId, string CreatedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Secret = null)
{
    public static PreferenceResponse From(CheckoutPreference p, string? secret = null) => new(
        p.Id, p.Document["custom_urls"]?.AsObject(), p.Document["external_reference"]?.GetValue<string>(),
        p.Document["items"], p.EndpointId, EndpointResponse.Time(p.CreatedAt), secret);
}

public sealed record EventResponse(
    string Id,
    string EntityKind,
    string EntityId,
    string Type,
    string? FromState,
    string ToState,
    int Version,
    string OccurredAt,
    JsonObject Data)
{
    public static EventResponse From(EntityEvent e) => new(
        e.Id, e.EntityKind.ApiName(), e.EntityId, e.Type, e.FromState, e.ToState, e.Version,
        EndpointResponse.Time(e.OccurredAt), e.Snapshot);
}

public sealed record NotificationResponse(
    string Id,
    string EventId,
    string EndpointId,
    string EntityKind,
    string EntityId,
    string EventType,
    string Status,
    int AttemptCount,
    string? NextAttemptAt,
    string? LastAttemptAt,
    int? LastStatusCode,
    string? LastError,
    string CreatedAt,
    string? SucceededAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] JsonNode? Payload = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<AttemptResponse>? Attempts = null)
{
    public static NotificationResponse From(Notification n, IReadOnlyList<Attempt>? attempts = null) => new(
        n.Id, n.EventId, n.EndpointId, n.EntityKind.ApiName(), n.EntityId, n.EventType, n.Status, n.AttemptCount,
        EndpointResponse.Time(n.NextAttemptAt), EndpointResponse.Time(n.LastAttemptAt), n.LastStatusCode, n.LastError,
        EndpointResponse.Time(n.CreatedAt), EndpointResponse.Time(n.SucceededAt),
        n.Payload is null ? null : JsonNode.Parse(n.Payload),
        attempts?.Select(AttemptResponse.From).ToList());
}

public sealed record AttemptResponse(
    string Id,
    int Number,
    string Trigger,
    string StartedAt,
    int DurationMs,
    int? StatusCode,
    bool Succeeded,
    string? Error,
    string? ResponseExcerpt)
{
    public static AttemptResponse From(Attempt a) => new(
        a.Id, a.Number, a.Trigger, EndpointResponse.Time(a.StartedAt), a.DurationMs, a.StatusCode, a.Succeeded, a.Error, a.ResponseExcerpt);
}

public sealed record ApiKeyResponse(
    string Id,
    string Scope,
    string CreatedAt,
    string? RevokedAt,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ApiKey = null);

public sealed record RotatedSecretResponse(string Id, string Secret, string PreviousSecretsExpireAt);

public sealed record AcceptedResponse(string Id, string Status);

public sealed record RecoverResponse(string Id, int Queued, bool Complete);

public sealed record TestResultResponse(string EndpointId, bool Succeeded, int? StatusCode, int DurationMs, string? Error, string? ResponseExcerpt)
{
    public static TestResultResponse From(string endpointId, Herald.Delivery.Sending.AttemptResult r) =>
        new(endpointId, r.Succeeded, r.StatusCode, r.DurationMs, r.Error, r.ResponseExcerpt);
}

public sealed record HealthResponse(string Status);

