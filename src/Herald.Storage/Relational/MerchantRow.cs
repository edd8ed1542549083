using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class MerchantRow
{
    public string id { get; set; } = "";
    public string name { get; set; } = "";
    public long created_at { get; set; }

    public Merchant ToModel() => new(id, name, Time.At(created_at));
}
