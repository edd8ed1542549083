namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class IdempotencyRow
{
    public string event_id { get; set; } = "";
    public string request_hash { get; set; } = "";
}
