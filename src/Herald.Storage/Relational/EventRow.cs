using System.Text.Json.Nodes;
using Herald.Entities;
using Herald.Events;

namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class EventRow
{
    public string id { get; set; } = "";
    public string merchant_id { get; set; } = "";
    public string entity_kind { get; set; } = "";
    public string entity_id { get; set; } = "";
    public string type { get; set; } = "";
    public string? from_state { get; set; }
    public string to_state { get; set; } = "";
    public long version { get; set; }
    public long occurred_at { get; set; }
    public string snapshot { get; set; } = "";

    public EntityEvent ToModel() => new(
        id, merchant_id, EntityKinds.ParseApiName(entity_kind), entity_id, type, from_state, to_state,
        (int)version, Time.At(occurred_at), JsonNode.Parse(snapshot)!.AsObject());
}
