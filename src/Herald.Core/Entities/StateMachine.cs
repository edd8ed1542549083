using System.Collections.Frozen;
using Herald.Errors;

namespace Herald.Entities;

/// <summary>
/// The states of one entity kind, the state it is born in, and which moves are allowed.
/// A state with no way out is final.
/// </summary>
public sealed class StateMachine
{
    private readonly FrozenDictionary<string, FrozenSet<string>> _transitions;
    private readonly FrozenDictionary<string, string> _aliases;

    internal StateMachine(EntityKind kind, string initial, IReadOnlyDictionary<string, string[]> transitions, IReadOnlyDictionary<string, string>? aliases = null)
    {
        Kind = kind;
        Initial = initial;
        _transitions = transitions.ToFrozenDictionary(p => p.Key, p => p.Value.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);
        _aliases = (aliases ?? new Dictionary<string, string>()).ToFrozenDictionary(StringComparer.Ordinal);
        States = [.. transitions.Keys];
        Longest = States.MaxBy(state => state.Length)!;
    }

    public EntityKind Kind { get; }

    /// <summary>The state a new entity is born in.</summary>
    public string Initial { get; }

    /// <summary>Every state of this kind, in declaration order.</summary>
    public IReadOnlyList<string> States { get; }

    /// <summary>
    /// The state whose name is the longest (the first of them): the room a document keeps so that a
    /// move that brings no data always fits within the bound on its size.
    /// </summary>
    public string Longest { get; }

    /// <summary>Every spelling of a state this kind takes: its states, then their aliases.</summary>
    public IEnumerable<string> Spellings => States.Concat(_aliases.Keys);

    /// <summary>Every spelling of a state some move leads to (the state an entity is born in is none, unless a move returns to it).</summary>
    public IEnumerable<string> TargetSpellings
    {
        get
        {
            var targets = _transitions.Values.SelectMany(next => next).ToHashSet(StringComparer.Ordinal);
            return Spellings.Where(spelling => TryNormalize(spelling, out var state) && targets.Contains(state));
        }
    }

    /// <summary>The state <paramref name="input"/> names, in its canonical spelling; a 400 naming this kind's states when it names none.</summary>
    public string Target(string? input) => TryNormalize(input, out var state)
        ? state
        : throw new HeraldException(ErrorKind.BadRequest, $"unknown {Kind.ApiName()} state {HeraldException.Quote(input)}; expected one of {string.Join(", ", States)}");

    /// <summary>Maps an input spelling (including aliases such as <c>DECLINED</c> for seed 003's <c>DECINED</c>) to the canonical state.</summary>
    public bool TryNormalize(string? input, out string state)
    {
        state = "";
        if (string.IsNullOrEmpty(input))
        {
            return false;
        }
        if (_transitions.ContainsKey(input))
        {
            state = input;
            return true;
        }
        if (_aliases.TryGetValue(input, out var canonical))
        {
            state = canonical;
            return true;
        }
        return false;
    }

    public bool IsFinal(string state) => _transitions.TryGetValue(state, out var next) && next.Count == 0;

    public bool CanMove(string from, string to) => _transitions.TryGetValue(from, out var next) && next.Contains(to);

    public IReadOnlyCollection<string> NextStates(string from) =>
        _transitions.TryGetValue(from, out var next) ? next : [];
}
