using System.Globalization;
using Herald.Storage.Relational;
using Npgsql;

namespace Herald.Storage.Postgres;

// Batched writes: a batch's rows, changes and attempts each sent as one statement over arrays.
public sealed partial class PostgresStore
{
    // The hot path's rows go in as one array per column, unnested on the server: one statement text
    // per table whatever the number of rows, so it is parsed and planned once per connection
    // (automatic preparation) instead of once per batch, and its parameters stay a handful.
    protected override async Task InsertRowsAsync(WriteScope scope, string table, RowSet rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        // One array per column, in the columns' order: numbered as they are added.
        var numbers = Enumerable.Range(1, rows.ColumnTypes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"${c}"));
        await using var command = new NpgsqlCommand($"INSERT INTO {table} ({rows.Columns}) SELECT * FROM {Unnested(numbers)} AS r",
            (NpgsqlConnection)scope.Connection, (NpgsqlTransaction)scope.Transaction);
        AddArrays(new Positional(command.Parameters, naming: false), "a", rows);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // A batch's changes in one statement, one round trip: the plain creates go in where their ids are
    // free and the plain updates where their entity is still at the version they expect, then the
    // events and notifications of the changes that took (those, and the changes whose entity was
    // written before it). The text depends only on the tables' columns.
    //
    // Written at once (see WriteAtOnceAsync), a create whose id is taken already is left out by
    // looking the id up, not with ON CONFLICT DO NOTHING: that makes every insert speculative, one
    // more WAL record and index probe for each new entity, to cover a race that is rare (two creates
    // of one id at once). When it happens, the insert that comes second fails on the key, and its
    // batch is written once more with ON CONFLICT DO NOTHING, which answers a conflict for that
    // change whatever else is created meanwhile. Inside a larger transaction, where a failed
    // statement would take the rest with it, creates are always speculative.
    private static readonly NumberedStatement<ChangeRows> s_changes =
        new(static rows => ChangesSql(rows, "WHERE NOT EXISTS (SELECT 1 FROM entities x WHERE x.kind = e.kind AND x.id = e.id)"));

    private static readonly NumberedStatement<ChangeRows> s_speculativeChanges = new(static rows => ChangesSql(rows, "ON CONFLICT DO NOTHING"));

    /// <summary>The changes statement, its creates going in where <paramref name="idFree"/> lets them.</summary>
    private static string ChangesSql(ChangeRows rows, string idFree) => $"""
        WITH created AS (
          INSERT INTO entities ({rows.Creates.Columns})
          SELECT * FROM {Unnest("e", rows.Creates)} AS e({rows.Creates.Columns}) {idFree}
          RETURNING kind, id),
        updated AS (
          {UpdateEntitySql(c => "u." + rows.Updates.ColumnTypes[c - 1].Name, $" FROM {Unnest("u", rows.Updates, "@uc")} AS u({rows.Updates.Columns}, change)")}
          RETURNING u.change),
        taken AS (
          SELECT c.change FROM {Unnested(["@e0", "@e1", "@ec"])} AS c(kind, id, change) JOIN created USING (kind, id)
          UNION ALL SELECT change FROM updated
          UNION ALL SELECT unnest(@written)),
        events_written AS (
          INSERT INTO events ({rows.Events.Columns})
          SELECT {rows.Events.Columns} FROM {Unnest("v", rows.Events, "@vc")} AS v({rows.Events.Columns}, change)
          WHERE v.change IN (SELECT change FROM taken)),
        notifications_written AS (
          INSERT INTO notifications ({rows.Notifications.Columns})
          SELECT {rows.Notifications.Columns} FROM {Unnest("n", rows.Notifications, "@nc")} AS n({rows.Notifications.Columns}, change)
          WHERE n.change IN (SELECT change FROM taken))
        SELECT change FROM taken
        """;

    protected override async Task<IReadOnlyCollection<int>> InsertChangesAsync(WriteScope scope, ChangeRows rows, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch((NpgsqlConnection)scope.Connection, (NpgsqlTransaction)scope.Transaction);
        AddChanges(batch, rows, speculative: true);
        var taken = new List<int>(rows.Events.Count);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            taken.Add(reader.GetInt32(0));
        }
        return taken;
    }

    /// <summary>The batch's changes statement (answering the changes that took), and the announcement of claimable work.</summary>
    private static void AddChanges(NpgsqlBatch batch, ChangeRows rows, bool speculative)
    {
        var changes = new NpgsqlBatchCommand();
        var statement = speculative ? s_speculativeChanges : s_changes;
        var parameters = statement.Parameters(changes.Parameters);
        AddArrays(parameters, "e", rows.Creates);
        AddIndexes(parameters, "ec", rows.CreatedBy);
        AddArrays(parameters, "u", rows.Updates);
        AddIndexes(parameters, "uc", rows.UpdatedBy);
        AddIndexes(parameters, "written", rows.Written);
        AddArrays(parameters, "v", rows.Events);
        AddIndexes(parameters, "vc", Enumerable.Range(0, rows.Events.Count).ToList());
        AddArrays(parameters, "n", rows.Notifications);
        AddIndexes(parameters, "nc", rows.NotifiedBy);
        changes.CommandText = statement.Text(parameters, rows);
        batch.BatchCommands.Add(changes);
        if (rows.Claimable)
        {
            // Sent along in the same round trip, delivered on commit (never if the batch rolls back).
            // Decided before the statement runs: when the changes with claimable work all lose
            // their race, the other nodes look for work once for nothing, which is harmless.
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"NOTIFY {WakeChannel}"));
        }
    }

    // A batch of plain changes and outcomes goes to the server in one round trip and one
    // transaction: statements sent together, with one sync at their end, run in a transaction of
    // their own (the server begins it at the first and commits it once the last has run), so the
    // batch needs no BEGIN or COMMIT of its own. Should a statement fail, the server skips the rest
    // and rolls back what ran before it.
    protected override bool WritesBatchesAtOnce => true;

    protected override async Task<(IReadOnlyCollection<int> Taken, IReadOnlyCollection<string> Moved)> WriteAtOnceAsync(
        ChangeRows? changes, RowSet? moves, RowSet? attempts, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAtOnceAsync(changes, moves, attempts, speculative: false, cancellationToken);
        }
        catch (PostgresException e) when (changes is not null && e is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "entities_pkey" })
        {
            // Another transaction created one of the batch's entities since the statement looked:
            // nothing of the batch was written; written again, that change answers a conflict.
            return await WriteAtOnceAsync(changes, moves, attempts, speculative: true, cancellationToken);
        }
    }

    private async Task<(IReadOnlyCollection<int> Taken, IReadOnlyCollection<string> Moved)> WriteAtOnceAsync(
        ChangeRows? changes, RowSet? moves, RowSet? attempts, bool speculative, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { new NpgsqlBatchCommand(BatchPlanning) } };
        if (changes is not null)
        {
            AddChanges(batch, changes, speculative);
        }
        if (moves is { Count: > 0 })
        {
            batch.BatchCommands.Add(AttemptsCommand(moves, attempts!));
        }
        var taken = new List<int>(changes?.Events.Count ?? 0);
        var moved = new List<string>(moves?.Count ?? 0);
        // Not cancelled once sent: the commit may have happened before the answers are read.
        await using var reader = await batch.ExecuteReaderAsync(CancellationToken.None);
        // The first answer is the settings'.
        while (await reader.NextResultAsync(CancellationToken.None))
        {
            while (await reader.ReadAsync(CancellationToken.None))
            {
                if (reader.GetFieldType(0) == typeof(int))
                {
                    taken.Add(reader.GetInt32(0));
                }
                else
                {
                    moved.Add(reader.GetString(0));
                }
            }
        }
        return (taken, moved);
    }

    // A batch's outcomes in one statement: the notifications still leased as claimed move on, and
    // the attempts of those that moved go in.
    private static readonly NumberedStatement<(RowSet Moves, RowSet Attempts)> s_attempts = new(static s => AttemptsSql(s.Moves, s.Attempts));

    private static string AttemptsSql(RowSet moves, RowSet attempts)
    {
        var names = string.Join(", ", Enumerable.Range(1, moves.ColumnTypes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"c{c}")));
        return $"""
            WITH moved AS (
              UPDATE notifications SET {MoveAssignments(c => string.Create(CultureInfo.InvariantCulture, $"v.c{c}"))}
              FROM {Unnest("m", moves)} AS v({names})
              WHERE notifications.id = v.c1 AND notifications.lease_token = v.c2
              RETURNING notifications.id),
            attempted AS (
              INSERT INTO attempts ({attempts.Columns})
              SELECT {attempts.Columns} FROM {Unnest("t", attempts)} AS t({attempts.Columns})
              WHERE t.notification_id IN (SELECT id FROM moved))
            SELECT id FROM moved
            """;
    }

    protected override async Task<IReadOnlyCollection<string>> RecordAttemptsAsync(WriteScope scope, RowSet moves, RowSet attempts, CancellationToken cancellationToken)
    {
        if (moves.Count == 0)
        {
            return [];
        }
        await using var batch = new NpgsqlBatch((NpgsqlConnection)scope.Connection, (NpgsqlTransaction)scope.Transaction) { BatchCommands = { AttemptsCommand(moves, attempts) } };
        var moved = new List<string>(moves.Count);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            moved.Add(reader.GetString(0));
        }
        return moved;
    }

    private static NpgsqlBatchCommand AttemptsCommand(RowSet moves, RowSet attempts)
    {
        var command = new NpgsqlBatchCommand();
        var parameters = s_attempts.Parameters(command.Parameters);
        AddArrays(parameters, "m", moves);
        AddArrays(parameters, "t", attempts);
        command.CommandText = s_attempts.Text(parameters, (moves, attempts));
        return command;
    }
}
