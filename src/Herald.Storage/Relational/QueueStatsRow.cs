namespace Herald.Storage.Relational;

// A row as the database returns it; Dapper fills it by column name, and it converts to the model.
internal sealed class QueueStatsRow
{
    public long pending { get; set; }
    public long? oldest { get; set; }
}
