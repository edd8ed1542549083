using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class ApiKeyRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string key_hash { get; set; } = "";
    public long created_at { get; set; }
    public long? revoked_at { get; set; }
    public string scope { get; set; } = ApiKeyScopes.Full;
}
