namespace Herald.Errors;

/// <summary>What kind of refusal an error is; the API maps each to its HTTP status.</summary>
public enum ErrorKind
{
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    Unavailable,
}

/// <summary>
/// A refusal the caller should read: bad input, a missing entity, an illegal transition. Its
/// messages are shown as they are, so they never contain secrets.
/// </summary>
public sealed class HeraldException : Exception
{
    public HeraldException(ErrorKind kind, params string[] messages)
        : base(messages.Length > 0 ? string.Join("; ", messages) : kind.ToString())
    {
        Kind = kind;
        Messages = messages.Length > 0 ? messages : [kind.ToString()];
    }

    public HeraldException()
        : this(ErrorKind.BadRequest)
    {
    }

    public HeraldException(string message)
        : this(ErrorKind.BadRequest, message)
    {
    }

    public HeraldException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = ErrorKind.BadRequest;
        Messages = [message];
    }

    public ErrorKind Kind { get; }

    /// <summary>For a refusal that passes with time (a full queue): when to try again, said in <c>Retry-After</c>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public IReadOnlyList<string> Messages { get; }

    public static HeraldException NotFound(string what) => new(ErrorKind.NotFound, $"{what} not found");

    /// <summary>Not found, naming the caller's <paramref name="id"/> as <see cref="Shown"/> does.</summary>
    public static HeraldException NotFound(string what, string id) => NotFound($"{what} {Shown(id)}");

    /// <summary>The most characters of a caller's value an error quotes.</summary>
    public const int MaxQuoted = 64;

    /// <summary>
    /// An id the caller gave, unquoted, for an error that names it (<c>endpoint ep_… not found</c>):
    /// whole when it is no longer than <see cref="MaxQuoted"/> characters, as every id Herald makes
    /// is, else cut as <see cref="Quote"/> cuts, so that a path of kilobytes is not repeated back.
    /// </summary>
    public static string Shown(string value) =>
        value.Length <= MaxQuoted ? value : $"{value[..MaxQuoted]}…";

    /// <summary>
    /// A value the caller gave, in quotes, for an error that names it: cut to its first
    /// <see cref="MaxQuoted"/> characters (and …), so that an answer never repeats a large body back.
    /// </summary>
    public static string Quote(string? value) =>
        value is null ? "null" : value.Length <= MaxQuoted ? $"'{value}'" : $"'{value[..MaxQuoted]}…'";
}
