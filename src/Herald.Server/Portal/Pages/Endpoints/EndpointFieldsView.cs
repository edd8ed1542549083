namespace Herald.Server.Portal.Pages.Endpoints;

/// <summary>What the shared endpoint fields show: the form, and whether its format can still change.</summary>
public sealed record EndpointFieldsView(EndpointForm Form, bool FormatFixed);
