using System.Data;
using System.Globalization;
using System.Text.RegularExpressions;
using Herald.Storage.Relational;
using Npgsql;

namespace Herald.Storage.Postgres;

// A batch's rows as column arrays (unnest), and statements numbered and bound positionally.
public sealed partial class PostgresStore
{
    /// <summary>The rows of the arrays <see cref="AddArrays"/> names, and of any further ones given, side by side (see <see cref="Unnested"/>).</summary>
    private static string Unnest(string prefix, RowSet rows, params string[] more) =>
        Unnested(Enumerable.Range(0, rows.ColumnTypes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"@{prefix}{c}")).Concat(more));

    /// <summary>
    /// Arrays of the same length read as rows, element by element, for a FROM clause:
    /// <c>(SELECT unnest(@a), unnest(@b), …)</c>. Not <c>unnest(@a, @b, …)</c> in the FROM clause,
    /// which gives the same rows but gathers each array's elements into a store of their own
    /// first, 16 kB of memory each, freed when the statement ends: a batch's statements, about 40
    /// arrays, made every server process grow its heap by over half a megabyte and hand it back to
    /// the system at every batch, and touching new pages is costly. Functions in the select list
    /// are read in step, one row at a time.
    /// </summary>
    private static string Unnested(IEnumerable<string> arrays) =>
        $"(SELECT {string.Join(", ", arrays.Select(a => $"unnest({a})"))})";

    private static void AddIndexes(Positional parameters, string name, IReadOnlyList<int> indexes) =>
        parameters.Add(name, new NpgsqlParameter<int[]> { TypedValue = [.. indexes] });

    /// <summary>One array parameter per column of <paramref name="rows"/>, named <paramref name="prefix"/> and the column's number.</summary>
    private static void AddArrays(Positional parameters, string prefix, RowSet rows)
    {
        for (var c = 0; c < rows.ColumnTypes.Count; c++)
        {
            parameters.Add(prefix, c, rows.ColumnTypes[c].Type switch
            {
                // Typed from their CLR types (text[], bigint[], integer[], boolean[]), not named by an NpgsqlDbType,
                // which Npgsql turns into a type name, a new string, on every call.
                DbType.String => new NpgsqlParameter<string?[]> { TypedValue = Column(rows, c, v => (string?)v) },
                DbType.Int64 => new NpgsqlParameter<long?[]> { TypedValue = Column(rows, c, v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)) },
                DbType.Int32 => new NpgsqlParameter<int?[]> { TypedValue = Column(rows, c, v => v is null ? (int?)null : Convert.ToInt32(v, CultureInfo.InvariantCulture)) },
                DbType.Boolean => new NpgsqlParameter<bool?[]> { TypedValue = Column(rows, c, v => (bool?)v) },
                var other => throw new NotSupportedException($"no array type for {other}"),
            });
        }
    }

    private static T[] Column<T>(RowSet rows, int column, Func<object?, T> convert)
    {
        var values = new T[rows.Count];
        for (var r = 0; r < values.Length; r++)
        {
            values[r] = convert(rows.Rows[r][column]);
        }
        return values;
    }

    /// <summary>
    /// A statement written with named parameters (<c>@e0</c>, <c>@nc</c>, …), for reading, and sent
    /// with them unnamed and numbered (<c>$1</c>, <c>$2</c>, …), which Npgsql sends as it is: named
    /// ones make it parse and rewrite the text again for every batch. The text is numbered the first
    /// time, from the names noted while its parameters were added (<see cref="Parameters"/>); later
    /// uses check only that they add as many.
    /// </summary>
    private sealed class NumberedStatement<TState>(Func<TState, string> write)
    {
        // The numbered text and how many parameters it takes; set once.
        private (string Text, int Parameters)? _numbered;
        private readonly Lock _numbering = new();

        /// <summary>The statement's parameters, to be added in the order its text is numbered for.</summary>
        public Positional Parameters(NpgsqlParameterCollection collection)
        {
            lock (_numbering)
            {
                return new(collection, naming: _numbered is null);
            }
        }

        /// <summary>The numbered text, once every parameter has been added.</summary>
        public string Text(Positional parameters, TState state)
        {
            lock (_numbering)
            {
                _numbered ??= (Number(write(state), parameters.Names), parameters.Count);
                var (text, count) = _numbered.Value;
                return count == parameters.Count
                    ? text
                    : throw new InvalidOperationException($"the statement was numbered for {count} parameters; it was given {parameters.Count}");
            }
        }

        /// <summary><paramref name="sql"/> with each <c>@name</c> replaced by its parameter's number: every name must be a parameter's, and every parameter used.</summary>
        private static string Number(string sql, IReadOnlyList<string>? names)
        {
            ArgumentNullException.ThrowIfNull(names);
            var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                numbers.Add(names[i], i + 1);
            }
            var used = new HashSet<string>(StringComparer.Ordinal);
            var text = Placeholder().Replace(sql, m =>
            {
                var name = m.Groups[1].Value;
                if (!numbers.TryGetValue(name, out var number))
                {
                    throw new InvalidOperationException($"the statement names @{name}, which is no parameter of it");
                }
                used.Add(name);
                return string.Create(CultureInfo.InvariantCulture, $"${number}");
            });
            if (used.Count != names.Count)
            {
                throw new InvalidOperationException($"parameters the statement never uses: {string.Join(", ", names.Except(used))}");
            }
            return text;
        }
    }

    /// <summary>A statement's parameters, added in order and unnamed (their names noted when <paramref name="naming"/>).</summary>
    private sealed class Positional(NpgsqlParameterCollection parameters, bool naming)
    {
        private readonly List<string>? _names = naming ? [] : null;

        /// <summary>The names noted, in order; null when they were not.</summary>
        public IReadOnlyList<string>? Names => _names;

        public int Count => parameters.Count;

        public void Add(string name, NpgsqlParameter parameter)
        {
            _names?.Add(name);
            parameters.Add(parameter);
        }

        public void Add(string prefix, int column, NpgsqlParameter parameter)
        {
            _names?.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{column}"));
            parameters.Add(parameter);
        }
    }

    [GeneratedRegex(@"@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Placeholder();
}
