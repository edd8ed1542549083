using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
