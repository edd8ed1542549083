using System.Data;

namespace Herald.Storage.Relational;

/// <summary>
/// Rows bound for one table (or one statement), each column with its type. Each database writes
/// them as suits it: PostgreSQL as one typed array per column, unnested on the server; SQLite one
/// row at a time through a statement prepared once.
/// </summary>
public sealed class RowSet
{
    private readonly (string Name, DbType Type)[] _columns;
    private readonly List<object?[]> _rows = [];

    public RowSet(params (string Name, DbType Type)[] columns) => _columns = columns;

    public int Count => _rows.Count;

    /// <summary>The column names, comma-separated, for an <c>INSERT</c>'s column list.</summary>
    public string Columns => string.Join(", ", _columns.Select(c => c.Name));

    /// <summary>The columns with their types, in order.</summary>
    public IReadOnlyList<(string Name, DbType Type)> ColumnTypes => _columns;

    /// <summary>The rows, each a value per column.</summary>
    public IReadOnlyList<object?[]> Rows => _rows;

    /// <summary>Each row's value in the column named <paramref name="column"/>.</summary>
    public IEnumerable<object?> Values(string column)
    {
        var index = IndexOf(column);
        return _rows.Select(r => r[index]);
    }

    /// <summary>The position of the column named <paramref name="column"/>.</summary>
    public int IndexOf(string column)
    {
        var index = Array.FindIndex(_columns, c => c.Name == column);
        return index >= 0 ? index : throw new ArgumentException($"no column {column}", nameof(column));
    }

    public void Add(params object?[] values)
    {
        if (values.Length != _columns.Length)
        {
            throw new ArgumentException($"expected {_columns.Length} values, got {values.Length}", nameof(values));
        }
        _rows.Add(values);
    }

    /// <summary>The same columns, with only the rows <paramref name="keep"/> picks (by index).</summary>
    public RowSet Where(Func<int, bool> keep)
    {
        var kept = new RowSet(_columns);
        for (var i = 0; i < _rows.Count; i++)
        {
            if (keep(i))
            {
                kept._rows.Add(_rows[i]);
            }
        }
        return kept;
    }
}
