using System.Text.Json.Nodes;
using Herald.Entities;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
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
