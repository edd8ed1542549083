using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Retry;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// Rows as the database returns them; Dapper fills them by column name and they convert to the model.

internal static class Time
{
    public static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    public static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    public static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public static DateTimeOffset? At(long? ms) => ms is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms.Value);
}

internal sealed class EndpointRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string url { get; set; } = "";
    public string? description { get; set; }
    public string format { get; set; } = "";
    public string? event_types { get; set; }
    public string success_rule { get; set; } = "";
    public string retry_policy { get; set; } = "";
    public long timeout_seconds { get; set; }
    public bool ordered { get; set; }
    public bool enabled { get; set; }
    public string source { get; set; } = "";
    public string? preference_id { get; set; }
    public string? disabled_reason { get; set; }
    public long? disabled_at { get; set; }
    public long created_at { get; set; }
    public long updated_at { get; set; }
    public long? max_concurrency { get; set; }
    public long? rate_limit { get; set; }
    public long? deleted_at { get; set; }
    public long? failing_since { get; set; }

    /// <summary>The headers as kept: encrypted (see <c>RelationalStore.HeadersOf</c>).</summary>
    public string? headers { get; set; }

    public Endpoint ToModel(IReadOnlyList<string> secrets, IReadOnlyDictionary<string, string>? headers) => new()
    {
        Id = id,
        MerchantId = merchant_id,
        Url = url,
        Description = description,
        Format = PayloadFormats.Parse(format),
        EventTypes = event_types is null ? null : JsonSerializer.Deserialize<string[]>(event_types),
        Success = SuccessRules.Parse(success_rule),
        Retry = RetryPolicies.Parse(retry_policy),
        TimeoutSeconds = (int)timeout_seconds,
        Ordered = ordered,
        Enabled = enabled,
        Source = source,
        PreferenceId = preference_id,
        DisabledReason = disabled_reason,
        DisabledAt = Time.At(disabled_at),
        FailingSince = Time.At(failing_since),
        CreatedAt = Time.At(created_at),
        UpdatedAt = Time.At(updated_at),
        MaxConcurrency = (int?)max_concurrency,
        RateLimit = (int?)rate_limit,
        Headers = headers,
        Secrets = secrets,
    };

    /// <summary>The endpoint's columns, its headers given as they are to be kept (encrypted).</summary>
    public static object Parameters(Endpoint e, string? headers) => new
    {
        id = e.Id,
        merchant_id = e.MerchantId,
        url = e.Url,
        description = e.Description,
        format = e.Format.ApiName(),
        event_types = e.EventTypes is null ? null : JsonSerializer.Serialize(e.EventTypes),
        success_rule = e.Success.ApiName(),
        retry_policy = e.Retry.ApiName(),
        timeout_seconds = e.TimeoutSeconds,
        ordered = e.Ordered,
        max_concurrency = e.MaxConcurrency,
        rate_limit = e.RateLimit,
        headers,
        enabled = e.Enabled,
        source = e.Source,
        preference_id = e.PreferenceId,
        disabled_reason = e.DisabledReason,
        disabled_at = Time.Ms(e.DisabledAt),
        created_at = Time.Ms(e.CreatedAt),
        updated_at = Time.Ms(e.UpdatedAt),
    };
}

internal sealed class QueueStatsRow
{
    public long pending { get; set; }
    public long? oldest { get; set; }
}

internal sealed class MerchantRow
{
    public string id { get; set; } = "";
    public string name { get; set; } = "";
    public long created_at { get; set; }

    public Merchant ToModel() => new(id, name, Time.At(created_at));
}

internal sealed class ApiKeyRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string key_hash { get; set; } = "";
    public long created_at { get; set; }
    public long? revoked_at { get; set; }
    public string scope { get; set; } = ApiKeyScopes.Full;
}

internal sealed class PreferenceRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string document { get; set; } = "";
    public string? endpoint_id { get; set; }
    public long created_at { get; set; }

    public CheckoutPreference ToModel() =>
        new(id, merchant_id, System.Text.Json.Nodes.JsonNode.Parse(document)!.AsObject(), endpoint_id, Time.At(created_at));
}

internal sealed class IdempotencyRow
{
    public string event_id { get; set; } = "";
    public string request_hash { get; set; } = "";
}

internal sealed class SecretRow
{
    public string endpoint_id { get; set; } = "";
    public string secret { get; set; } = "";
    public long created_at { get; set; }
    public long? expires_at { get; set; }
}

/// <summary>What a delivery needs of an endpoint, as read at one moment: kept in memory while no endpoint changes.</summary>
internal sealed class DeliveryTarget(EndpointRow endpoint, IReadOnlyList<(string Secret, long? ExpiresAt)> secrets, IReadOnlyDictionary<string, string>? headers)
{
    public EndpointRow Endpoint => endpoint;

    /// <summary>The endpoint's headers of its own, decrypted once for every delivery.</summary>
    public IReadOnlyDictionary<string, string>? Headers => headers;

    /// <summary>Whether notifications written already leased may go straight to the workers: enabled, not ordered, not deleted.</summary>
    public bool TakesHandOffs => endpoint.enabled && !endpoint.ordered && endpoint.deleted_at is null;

    public bool Deleted => endpoint.deleted_at is not null;

    // Every secret, and when the first of them expires: until then every delivery is given the one
    // list (no secret is being rotated out, the usual case), not a list of its own.
    private readonly IReadOnlyList<string> _all = secrets.Select(s => s.Secret).ToList();
    private readonly long? _firstExpiry = secrets.Min(s => s.ExpiresAt);

    /// <summary>The secrets signing at <paramref name="now"/> (Unix milliseconds), newest first.</summary>
    public IReadOnlyList<string> SecretsAt(long now) =>
        _firstExpiry is null || _firstExpiry > now
            ? _all
            : secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret).ToList();
}

internal sealed class EntityRow
{
    public string kind { get; set; } = "";
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string state { get; set; } = "";
    public long version { get; set; }
    public string? preference_id { get; set; }
    public string document { get; set; } = "";
    public long created_at { get; set; }
    public long updated_at { get; set; }

    public Entity ToModel() => new(
        EntityKinds.ParseApiName(kind), id, merchant_id, state, (int)version, preference_id,
        JsonNode.Parse(document)!.AsObject(), Time.At(created_at), Time.At(updated_at));
}

internal sealed class EventRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string entity_kind { get; set; } = "";
    public string entity_id { get; set; } = "";
    public string type { get; set; } = "";
    public string? from_state { get; set; }
    public string to_state { get; set; } = "";
    public long version { get; set; }
    public long occurred_at { get; set; }
    public string snapshot { get; set; } = "";

    public EntityEvent ToModel() => new(
        id, merchant_id, EntityKinds.ParseApiName(entity_kind), entity_id, type, from_state, to_state,
        (int)version, Time.At(occurred_at), JsonNode.Parse(snapshot)!.AsObject());
}

internal sealed class NotificationRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string event_id { get; set; } = "";
    public string endpoint_id { get; set; } = "";
    public string entity_kind { get; set; } = "";
    public string entity_id { get; set; } = "";
    public string event_type { get; set; } = "";
    public string status { get; set; } = "";
    public string? payload { get; set; }
    public long attempt_count { get; set; }
    public long? next_attempt_at { get; set; }
    public long? last_attempt_at { get; set; }
    public long? last_status_code { get; set; }
    public string? last_error { get; set; }
    public long created_at { get; set; }
    public long? succeeded_at { get; set; }
    public long entity_version { get; set; }

    public Notification ToModel() => new()
    {
        Id = id,
        MerchantId = merchant_id,
        EventId = event_id,
        EndpointId = endpoint_id,
        EntityKind = EntityKinds.ParseApiName(entity_kind),
        EntityId = entity_id,
        EventType = event_type,
        Status = status,
        Payload = payload,
        AttemptCount = (int)attempt_count,
        NextAttemptAt = status == NotificationStatuses.Pending ? Time.At(next_attempt_at) : null,
        LastAttemptAt = Time.At(last_attempt_at),
        LastStatusCode = (int?)last_status_code,
        LastError = last_error,
        CreatedAt = Time.At(created_at),
        SucceededAt = Time.At(succeeded_at),
        EntityVersion = entity_version,
    };
}

internal sealed class ClaimRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string event_id { get; set; } = "";
    public string endpoint_id { get; set; } = "";
    public string url { get; set; } = "";
    public string format { get; set; } = "";
    public string success_rule { get; set; } = "";
    public string retry_policy { get; set; } = "";
    public long timeout_seconds { get; set; }
    public long? max_concurrency { get; set; }
    public long? rate_limit { get; set; }
    public string? trace_parent { get; set; }
    public string payload { get; set; } = "";
    public string status { get; set; } = "";
    public long attempt_count { get; set; }
    public long failures { get; set; }
    public long created_at { get; set; }
    public string? lease_token { get; set; }

    /// <summary>The endpoint's headers, joined in with the rest of it (no column of the claim's).</summary>
    public IReadOnlyDictionary<string, string>? endpoint_headers { get; set; }

    /// <summary>Whether the endpoint was ordered when the notification was taken.</summary>
    public bool endpoint_ordered { get; set; }

    /// <summary>A row of a claim's columns (see <c>RelationalStore.ClaimReturning</c>), each read by its name.</summary>
    public static ClaimRow From(IReadOnlyList<string> columns, object?[] values)
    {
        var row = new ClaimRow();
        for (var c = 0; c < columns.Count; c++)
        {
            row.Set(columns[c], values[c]);
        }
        return row;
    }

    private void Set(string name, object? value)
    {
        switch (name)
        {
            case "id": id = (string)value!; break;
            case "merchant_id": merchant_id = (string)value!; break;
            case "event_id": event_id = (string)value!; break;
            case "endpoint_id": endpoint_id = (string)value!; break;
            case "payload": payload = (string)value!; break;
            case "status": status = (string)value!; break;
            case "attempt_count": attempt_count = (long)value!; break;
            case "failures": failures = (long)value!; break;
            case "created_at": created_at = (long)value!; break;
            case "lease_token": lease_token = (string?)value; break;
            case "trace_parent": trace_parent = (string?)value; break;
            default: throw new InvalidOperationException($"a claim answered a column it does not read: {name}");
        }
    }

    /// <summary>
    /// The row of a claim in hand, its endpoint's settings left to be joined in again (whether the
    /// endpoint was ordered when it was taken kept).
    /// </summary>
    public static ClaimRow Of(ClaimedNotification claim) => new()
    {
        id = claim.Id,
        merchant_id = claim.MerchantId,
        event_id = claim.EventId,
        endpoint_id = claim.EndpointId,
        payload = claim.Payload,
        status = claim.Status,
        attempt_count = claim.AttemptCount,
        failures = claim.Failures,
        created_at = Time.Ms(claim.CreatedAt),
        trace_parent = claim.TraceParent,
        lease_token = claim.LeaseToken,
        endpoint_ordered = claim.Ordered,
    };

    /// <summary>The row of a notification leased as it was recorded (its first attempt to come), its endpoint's settings left to be joined in.</summary>
    public static ClaimRow Of(LeasedNotification leased) => new()
    {
        id = leased.Id,
        merchant_id = leased.MerchantId,
        event_id = leased.EventId,
        endpoint_id = leased.EndpointId,
        payload = leased.Payload,
        status = NotificationStatuses.Pending,
        created_at = Time.Ms(leased.CreatedAt),
        trace_parent = leased.TraceParent,
        lease_token = leased.LeaseToken,
    };

    public ClaimedNotification ToModel(IReadOnlyList<string> secrets) => new()
    {
        Id = id,
        MerchantId = merchant_id,
        EventId = event_id,
        EndpointId = endpoint_id,
        Url = url,
        Format = PayloadFormats.Parse(format),
        Success = SuccessRules.Parse(success_rule),
        Retry = RetryPolicies.Parse(retry_policy),
        TimeoutSeconds = (int)timeout_seconds,
        MaxConcurrency = (int?)max_concurrency,
        RateLimit = (int?)rate_limit,
        Headers = endpoint_headers,
        Ordered = endpoint_ordered,
        TraceParent = trace_parent,
        Secrets = secrets,
        Payload = payload,
        Status = status,
        AttemptCount = (int)attempt_count,
        Failures = (int)failures,
        CreatedAt = Time.At(created_at),
        LeaseToken = lease_token,
    };
}

internal sealed class AttemptRow
{
    public string id { get; set; } = "";
    public string notification_id { get; set; } = "";
    public long number { get; set; }
    public string trigger { get; set; } = "";
    public long started_at { get; set; }
    public long duration_ms { get; set; }
    public long? status_code { get; set; }
    public bool succeeded { get; set; }
    public string? error { get; set; }
    public string? response_excerpt { get; set; }

    public Attempt ToModel() => new(id, notification_id, (int)number, trigger, Time.At(started_at), (int)duration_ms,
        (int?)status_code, succeeded, error, response_excerpt);
}
