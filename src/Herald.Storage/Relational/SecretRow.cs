namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class SecretRow
{
    public string endpoint_id { get; set; } = "";
    public string secret { get; set; } = "";
    public long created_at { get; set; }
    public long? expires_at { get; set; }
}
