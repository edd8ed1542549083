using System.Buffers;
using System.Globalization;
using System.Text;
using Herald.Storage.Relational;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Storage.Sqlite;

// The hot path's statements, prepared once on the writer and bound and stepped through SQLite's own API.
public sealed partial class SqliteStore
{
    /// <summary>A statement on the writer's connection, prepared the first time it is asked for.</summary>
    private Statement Prepared(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            var db = _writer!.Handle!;
            Check(raw.sqlite3_prepare_v2(db, sql, out var handle), db);
            var slots = new int[raw.sqlite3_bind_parameter_count(handle)];
            for (var c = 0; c < slots.Length; c++)
            {
                slots[c] = raw.sqlite3_bind_parameter_index(handle, Parameter(c));
                if (slots[c] == 0)
                {
                    handle.Dispose();
                    throw new InvalidOperationException($"the statement's parameters are not @c0..@c{slots.Length - 1}: {sql}");
                }
            }
            var columns = new string[raw.sqlite3_column_count(handle)];
            for (var c = 0; c < columns.Length; c++)
            {
                columns[c] = raw.sqlite3_column_name(handle, c).utf8_to_string();
            }
            statement = new Statement(handle, handle.DangerousGetHandle(), slots, columns);
            _statements[sql] = statement;
        }
        return statement;
    }

    /// <summary>Steps a statement that returns no rows to its end; answers how many rows it changed.</summary>
    private int Step(Statement statement)
    {
        var db = _writer!.Handle!;
        try
        {
            var rc = SqliteNative.sqlite3_step(statement.Raw);
            if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
            {
                Check(rc, db);
            }
            return SqliteNative.sqlite3_changes(db.DangerousGetHandle());
        }
        finally
        {
            SqliteNative.sqlite3_reset(statement.Raw);
        }
    }

    private static void Check(int rc, sqlite3 db)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
    }

    /// <summary>Binds <paramref name="values"/> to the statement's parameters <c>@c0</c>, <c>@c1</c>, … in order.</summary>
    private static void Bind(Statement statement, object?[] values)
    {
        for (var c = 0; c < values.Length; c++)
        {
            Bind(statement, statement.Slots[c], values[c]);
        }
    }

    private static unsafe void Bind(Statement statement, int index, object? value)
    {
        int rc;
        switch (value)
        {
            case null:
                rc = SqliteNative.sqlite3_bind_null(statement.Raw, index);
                break;
            case string text:
                rc = BindText(statement.Raw, index, text);
                break;
            case long number:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, number);
                break;
            case int number:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, number);
                break;
            case bool flag:
                rc = SqliteNative.sqlite3_bind_int64(statement.Raw, index, flag ? 1 : 0);
                break;
            default:
                throw new ArgumentException($"no SQLite binding for a {value.GetType().Name}", nameof(value));
        }
        if (rc != raw.SQLITE_OK)
        {
            SqliteNative.sqlite3_reset(statement.Raw);
            Check(rc, raw.sqlite3_db_handle(statement.Handle));
        }
    }

    /// <summary>
    /// Binds text as UTF-8, what the database keeps: text bound as UTF-16 is translated by SQLite's
    /// own loop, a character at a time, when the statement runs; .NET's encoder is many times
    /// faster. SQLite copies the bytes before the call returns (a transient binding).
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static unsafe int BindText(nint statement, int index, string text)
    {
        const int OnStack = 1024;
        var most = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        // Never empty, so that an empty text is bound by a pointer (a null one would bind NULL).
        var buffer = most <= OnStack ? stackalloc byte[OnStack] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var length = Encoding.UTF8.GetBytes(text, buffer);
            fixed (byte* bytes = buffer)
            {
                return SqliteNative.sqlite3_bind_text(statement, index, bytes, length, SqliteNative.Transient);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Runs <paramref name="sql"/> once per row of <paramref name="rows"/> in the scope's transaction (its parameters <c>@c0</c>, <c>@c1</c>, … in column order); answers, per row, how many rows it changed.</summary>
    private int[] ExecutePerRow(string sql, RowSet rows, CancellationToken cancellationToken)
    {
        var changed = new int[rows.Count];
        if (rows.Count == 0)
        {
            return changed;
        }
        var statement = Prepared(sql);
        if (statement.Slots.Length != rows.ColumnTypes.Count)
        {
            throw new InvalidOperationException($"the statement's parameters are not @c0..@c{rows.ColumnTypes.Count - 1}: {sql}");
        }
        for (var r = 0; r < rows.Count; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Bind(statement, rows.Rows[r]);
            changed[r] = Step(statement);
        }
        return changed;
    }

    private static string Parameter(int column) => string.Create(CultureInfo.InvariantCulture, $"@c{column}");

    private static string InsertSql(string table, RowSet rows, string suffix = "") =>
        $"INSERT INTO {table} ({rows.Columns}) VALUES ({ValueList(rows)}){suffix}";

    private static string ValueList(RowSet rows) => string.Join(", ", Enumerable.Range(0, rows.ColumnTypes.Count).Select(Parameter));

    // SQLite runs in-process: a statement prepared once and stepped per row costs less than parsing
    // and binding a multi-row one each time.
    protected override Task InsertRowsAsync(WriteScope scope, string table, RowSet rows, CancellationToken cancellationToken)
    {
        ExecutePerRow(InsertSql(table, rows), rows, cancellationToken);
        return Task.CompletedTask;
    }

    protected override async Task<IReadOnlyCollection<int>> InsertChangesAsync(WriteScope scope, ChangeRows rows, CancellationToken cancellationToken)
    {
        var taken = new HashSet<int>(rows.Written);
        taken.UnionWith(Changed(ExecutePerRow(UpdateSql, rows.Updates, cancellationToken)).Select(r => rows.UpdatedBy[r]));
        var created = ExecutePerRow(InsertSql("entities", rows.Creates, " ON CONFLICT DO NOTHING"), rows.Creates, cancellationToken);
        taken.UnionWith(Changed(created).Select(r => rows.CreatedBy[r]));
        if (taken.Count > 0)
        {
            var events = rows.Events.Where(taken.Contains);
            ExecutePerRow(s_eventSql ??= EventSql(events), events, cancellationToken);
            var announce = Enumerable.Range(0, rows.Notifications.Count).Any(r => rows.LeftToClaim[r] && taken.Contains(rows.NotifiedBy[r]));
            await InsertNotificationsAsync(scope, rows.Notifications.Where(r => taken.Contains(rows.NotifiedBy[r])), announce, cancellationToken);
        }
        return taken;
    }

    // An event goes in with its entity's sequence number, the entity written before it in the
    // transaction. The text depends only on the events' columns.
    private static string? s_eventSql;

    private static string EventSql(RowSet events) =>
        $"INSERT INTO events ({events.Columns}, entity_seq) VALUES ({ValueList(events)}, " +
        $"(SELECT seq FROM entities WHERE kind = {Parameter(events.IndexOf("entity_kind"))} AND id = {Parameter(events.IndexOf("entity_id"))}))";

    private static readonly string UpdateSql = UpdateEntitySql(c => Parameter(c - 1));

    private static readonly string MoveSql =
        $"UPDATE notifications SET {MoveAssignments(c => Parameter(c - 1))} WHERE id = @c0 AND lease_token = @c1";

    protected override async Task<IReadOnlyCollection<string>> RecordAttemptsAsync(WriteScope scope, RowSet moves, RowSet attempts, CancellationToken cancellationToken)
    {
        var moved = Changed(ExecutePerRow(MoveSql, moves, cancellationToken)).ToHashSet();
        await InsertRowsAsync(scope, "attempts", attempts.Where(moved.Contains), cancellationToken);
        return moved.Select(r => (string)moves.Rows[r][0]!).ToList();
    }

    protected override Task<(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)?> TakeDueAsync(
        WriteScope scope, long now, long leaseUntil, string token, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var statement = Prepared(PreparedClaim);
        Bind(statement, [now, leaseUntil, token, limit]);
        var columns = statement.Columns;
        var rows = new List<object?[]>();
        try
        {
            // The update is made at the first step; the rows it changed are then read one at a time.
            int rc;
            while ((rc = SqliteNative.sqlite3_step(statement.Raw)) == raw.SQLITE_ROW)
            {
                var row = new object?[columns.Length];
                for (var c = 0; c < row.Length; c++)
                {
                    row[c] = Column(statement.Raw, c);
                }
                rows.Add(row);
            }
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc, _writer!.Handle!);
            }
        }
        finally
        {
            SqliteNative.sqlite3_reset(statement.Raw);
        }
        return Task.FromResult<(IReadOnlyList<string>, IReadOnlyList<object?[]>)?>((columns, rows));
    }

    /// <summary>A column of the statement's current row: null, a 64-bit integer or text.</summary>
    private static unsafe object? Column(nint statement, int column) => SqliteNative.sqlite3_column_type(statement, column) switch
    {
        raw.SQLITE_NULL => null,
        raw.SQLITE_INTEGER => SqliteNative.sqlite3_column_int64(statement, column),
        _ => Encoding.UTF8.GetString(SqliteNative.sqlite3_column_text(statement, column), SqliteNative.sqlite3_column_bytes(statement, column)),
    };

    /// <summary>The rows (of <see cref="ExecutePerRow"/>'s answer) whose statement changed a row.</summary>
    private static IEnumerable<int> Changed(int[] changedPerRow) => Enumerable.Range(0, changedPerRow.Length).Where(r => changedPerRow[r] == 1);
}
