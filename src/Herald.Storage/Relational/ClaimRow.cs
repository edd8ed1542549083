using Herald.Endpoints;
using Herald.Retry;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
