namespace Herald.Errors;

/// <summary>
/// Keeps a repeated report out of the log for <paramref name="quiet"/> after one of its kind was written,
/// counting those held back meanwhile, so that the next one written can say how many came: a
/// failure that repeats on every request or export says so once a minute, not once each time.
/// </summary>
/// <typeparam name="TKind">What tells one kind of report from another (each has its own quiet).</typeparam>
public sealed class QuietLog<TKind>(TimeSpan quiet, TimeProvider time) where TKind : notnull
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TKind, (DateTimeOffset Until, int Held)> _kinds = [];

    /// <summary>
    /// Whether a report of <paramref name="kind"/> is to be written now; when it is,
    /// <paramref name="held"/> is how many of its kind were held back since the last written.
    /// </summary>
    public bool ShouldWrite(TKind kind, out int held)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var last = _kinds.GetValueOrDefault(kind);
            if (now < last.Until)
            {
                _kinds[kind] = (last.Until, last.Held + 1);
                held = 0;
                return false;
            }
            _kinds[kind] = (now + quiet, 0);
            held = last.Held;
            return true;
        }
    }
}
