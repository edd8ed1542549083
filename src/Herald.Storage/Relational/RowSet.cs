using System.Data;
using System.Globalization;
using System.Text;
using Dapper;

namespace Herald.Storage.Relational;

/// <summary>
/// Rows bound for one table (or one statement), each column with its type. A database writes them
/// as suits it: PostgreSQL as multi-row <c>VALUES</c> lists with numbered parameters (the type lets
/// it resolve a column that holds null in every row; both databases name the columns of a bare
/// <c>VALUES</c> list <c>column1</c>, <c>column2</c>, …), SQLite one row at a time through a
/// statement prepared once.
/// </summary>
public sealed class RowSet
{
    /// <summary>Most rows in one statement: well under either database's parameter limit.</summary>
    public const int MaxRows = 200;

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

    /// <summary>The statements that insert every row into <paramref name="table"/>, each followed by <paramref name="suffix"/>.</summary>
    public IReadOnlyList<(string Sql, DynamicParameters Parameters)> Inserts(string table, string suffix = "") =>
        Chunks().Select(c => ($"INSERT INTO {table} ({Columns}) {c.Values}{suffix}", c.Parameters)).ToList();

    /// <summary>The rows in chunks of at most <see cref="MaxRows"/>: each a <c>VALUES (…), (…)</c> text and its parameters.</summary>
    public IEnumerable<(string Values, DynamicParameters Parameters)> Chunks()
    {
        for (var start = 0; start < _rows.Count; start += MaxRows)
        {
            var end = Math.Min(_rows.Count, start + MaxRows);
            var sql = new StringBuilder("VALUES ", 16 + (end - start) * _columns.Length * 10);
            var parameters = new DynamicParameters();
            for (var r = start; r < end; r++)
            {
                sql.Append(r == start ? "(" : ", (");
                for (var c = 0; c < _columns.Length; c++)
                {
                    var name = string.Create(CultureInfo.InvariantCulture, $"r{r - start}c{c}");
                    sql.Append(c == 0 ? "@" : ", @").Append(name);
                    parameters.Add(name, _rows[r][c], _columns[c].Type);
                }
                sql.Append(')');
            }
            yield return (sql.ToString(), parameters);
        }
    }
}
