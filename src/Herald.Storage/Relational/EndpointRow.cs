using System.Text.Json;
using Herald.Endpoints;
using Herald.Retry;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
