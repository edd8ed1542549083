namespace Herald.Server.Portal.Pages.Endpoints;

/// <summary>
/// What the shared endpoint fields show: the form, whether its format can still change, and the
/// refusal shown above it (<see cref="PortalFormat.ErrorId"/>), whose messages name the fields they are about.
/// </summary>
public sealed record EndpointFieldsView(EndpointForm Form, bool FormatFixed, string? Error = null)
{
    /// <summary><c>true</c> for a field the refusal names, so it is announced as invalid; left out otherwise.</summary>
    public string? AriaInvalid(string field) => PortalFormat.AriaInvalid(Error, field);

    /// <summary>What describes the field: its own hint, and the refusal when it names the field.</summary>
    public string? DescribedBy(string field, string? hint = null) => PortalFormat.DescribedBy(Error, field, hint);
}
