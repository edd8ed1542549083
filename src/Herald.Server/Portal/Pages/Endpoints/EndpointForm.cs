using Herald.Endpoints;
using Herald.Entities;
using Herald.Retry;
using Herald.Server.Api;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Portal.Pages.Endpoints;

/// <summary>The endpoint settings form, turned into the same requests the API takes.</summary>
public sealed class EndpointForm
{
    public string? Url { get; set; } = "";
    public string Format { get; set; } = "transaction";
    public string? Description { get; set; }
    public List<string> EventTypes { get; set; } = [];
    public string? Success { get; set; }
    public string? Retry { get; set; }
    public int? TimeoutSeconds { get; set; }
    public bool Ordered { get; set; }
    public int? MaxConcurrency { get; set; }
    public int? RateLimit { get; set; }

    /// <summary>The endpoint's headers of its own, one <c>Name: value</c> a line.</summary>
    public string? Headers { get; set; }

    /// <summary>
    /// The settings as the page showed them (<see cref="Fingerprint"/>, credentials as shown):
    /// a save from a page drawn before another change of them is refused, not made over it.
    /// </summary>
    public string? Loaded { get; set; }

    public static IReadOnlyList<string> Formats { get; } = ["transaction", "point", "thin"];

    /// <summary>The event types a format notifies, in state order.</summary>
    public static IEnumerable<string> TypesOf(string format) =>
        PayloadFormats.TryParse(format, out var f) && f != PayloadFormat.Operator ? f.EventTypes().Order(StringComparer.Ordinal) : [];

    public static EndpointForm From(Endpoint e)
    {
        var form = Show(e);
        form.Loaded = form.Fingerprint();
        return form;
    }

    /// <summary>A short digest of the settings the form shows, to tell whether they changed since.</summary>
    public string Fingerprint() =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(
            new object?[] { Url, Description, EventTypes.Order(StringComparer.Ordinal), Success, Retry, TimeoutSeconds, Ordered, MaxConcurrency, RateLimit, Headers }))))[..16];

    private static EndpointForm Show(Endpoint e) => new()
    {
        Url = e.Url,
        Format = e.Format.ApiName(),
        Description = e.Description,
        EventTypes = e.EventTypes?.ToList() ?? [],
        Success = e.Success.ApiName(),
        Retry = e.Retry.ApiName(),
        TimeoutSeconds = e.TimeoutSeconds,
        Ordered = e.Ordered,
        MaxConcurrency = e.MaxConcurrency,
        RateLimit = e.RateLimit,
        Headers = HiddenHeaders.Hide(e.Headers) is { } headers ? string.Join("\n", headers.Select(h => $"{h.Key}: {h.Value}")) : null,
    };

    /// <summary>
    /// The new endpoint. The form shows each format's event types; only the chosen format's ticks
    /// count (those left ticked under another format are not the endpoint's), none meaning all.
    /// </summary>
    public CreateEndpointRequest ToCreate()
    {
        var types = TypesOf(Format).Intersect(EventTypes, StringComparer.Ordinal).ToList();
        if (types.Count == 0 && EventTypes.Count > 0)
        {
            // Ticks, all of them another format's: the endpoint would otherwise get every event type.
            throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest,
                $"event_types ticked ({string.Join(", ", EventTypes)}) are not the {Format} format's: tick its own, or none for all of them");
        }
        return new((Url ?? "").Trim(), Format, Blank(Description), types.Count == 0 ? null : types, Blank(Success), Blank(Retry), TimeoutSeconds, Ordered,
            MaxConcurrency, RateLimit, HeaderLines());
    }

    /// <summary>
    /// Every field is sent: the form shows them all. No event type ticked means all of them: an
    /// empty list, which clears the filter (a missing one would leave it as it was).
    /// </summary>
    public UpdateEndpointRequest ToUpdate(Endpoint current)
    {
        ArgumentNullException.ThrowIfNull(current);
        IReadOnlyList<string> types = EventTypes;
        // An emptied limit field removes the limit (0 in the API); "Format default" chosen for the
        // success rule or the retry policy sends the format's own (the API reads a missing one as "unchanged").
        return new((Url ?? "").Trim(), Description ?? "", types,
            Blank(Success) ?? current.Format.DefaultSuccessRule().ApiName(), Blank(Retry) ?? current.Format.DefaultRetryPolicy().ApiName(),
            TimeoutSeconds, Ordered, MaxConcurrency: MaxConcurrency ?? 0, RateLimit: RateLimit ?? 0, Headers: HeaderLines() ?? new Dictionary<string, string?>());
    }

    /// <summary>
    /// The headers field read as the API's object: a <c>Name: value</c> a line, blank lines
    /// skipped, name and value trimmed; null when there are none. The API checks names and values.
    /// </summary>
    private Dictionary<string, string?>? HeaderLines()
    {
        var lines = (Headers ?? "").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        if (lines.Count == 0)
        {
            return null;
        }
        var headers = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest, $"headers: line {i + 1} is not Name: value");
            }
            var name = lines[i][..colon].Trim();
            if (!headers.TryAdd(name, lines[i][(colon + 1)..].Trim()))
            {
                throw new Herald.Errors.HeraldException(Herald.Errors.ErrorKind.BadRequest, $"headers: {name} is given twice (header names are the same in any case)");
            }
        }
        return headers;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
