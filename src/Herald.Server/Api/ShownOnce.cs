namespace Herald.Server.Api;

/// <summary>
/// Route metadata: the create answers <see cref="Field"/> (a key, a signing secret) this once and
/// always, where reads of the same resource leave it out. The OpenAPI document makes it required
/// in the route's 201, so a generated client need not check for it.
/// </summary>
public sealed record ShownOnce(string Field);
