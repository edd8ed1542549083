using Herald.Entities;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
