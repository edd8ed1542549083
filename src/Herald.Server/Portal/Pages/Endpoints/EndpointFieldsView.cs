namespace Herald.Server.Portal.Pages.Endpoints;

/// <summary>
/// What the shared endpoint fields show: the form, whether its format can still change, and the
/// refusal shown above it (<see cref="ErrorId"/>), whose messages name the fields they are about.
/// </summary>
public sealed record EndpointFieldsView(EndpointForm Form, bool FormatFixed, string? Error = null)
{
    /// <summary>The id of the element that shows the form's refusal.</summary>
    public const string ErrorId = "form-error";

    /// <summary>
    /// Whether a message of the refusal is about <paramref name="field"/> (as the API names it: a
    /// message begins with the field's name, <c>timeout_seconds must be …</c>, <c>headers: line 2 …</c>).
    /// </summary>
    public bool Invalid(string field) =>
        Error is not null && Error.Split("; ").Any(m => m.StartsWith(field, StringComparison.Ordinal)
            && (m.Length == field.Length || !(char.IsLetterOrDigit(m[field.Length]) || m[field.Length] == '_')));

    /// <summary><c>true</c> for a field the refusal names, so it is announced as invalid; left out otherwise.</summary>
    public string? AriaInvalid(string field) => Invalid(field) ? "true" : null;

    /// <summary>What describes the field: its own hint, and the refusal when it names the field.</summary>
    public string? DescribedBy(string field, string? hint = null) =>
        Invalid(field) ? (hint is null ? ErrorId : $"{ErrorId} {hint}") : hint;
}
