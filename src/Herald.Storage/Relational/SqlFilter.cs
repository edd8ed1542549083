using System.Text;
using Dapper;

namespace Herald.Storage.Relational;

/// <summary>
/// A WHERE clause built from the filters actually given, so that no statement compares a typed
/// column with an untyped NULL parameter (which PostgreSQL refuses to plan).
/// </summary>
internal sealed class SqlFilter
{
    private readonly StringBuilder _sql;

    public SqlFilter(string first, object? parameters = null)
    {
        _sql = new StringBuilder(first);
        Parameters = new DynamicParameters(parameters);
    }

    public DynamicParameters Parameters { get; }

    public void AndIf<T>(T? value, string condition, string name)
    {
        if (value is null || (value is string s && s.Length == 0))
        {
            return;
        }
        _sql.Append(" AND ").Append(condition);
        Parameters.Add(name, value);
    }

    /// <summary>Adds <paramref name="condition"/>, which takes no parameter, when <paramref name="when"/> holds.</summary>
    public void AndIf(bool when, string condition)
    {
        if (when)
        {
            _sql.Append(" AND ").Append(condition);
        }
    }

    public override string ToString() => _sql.ToString();
}
