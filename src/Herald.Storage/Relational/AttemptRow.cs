using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
