namespace Herald.Server.Hosting;

/// <summary>
/// Where the links Herald hands out point: the address the operator gave as Herald's public one
/// (<see cref="HeraldServerOptions.PublicUrl"/>), or else the address the request asking for one
/// came in at (its scheme as a trusted proxy says it).
/// </summary>
public sealed class PublicAddress
{
    private readonly string? _root;

    public PublicAddress(string? publicUrl)
    {
        if (publicUrl is null)
        {
            return;
        }
        if (HeraldServerOptions.PublicUrlRefusal(publicUrl) is { } why)
        {
            throw new ArgumentException($"the public address '{publicUrl}' {why}", nameof(publicUrl));
        }
        // As parsed (blanks around it dropped, the scheme and host in lower case), without a last '/'.
        _root = new Uri(publicUrl.Trim(), UriKind.Absolute).GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>The absolute address of Herald's <paramref name="path"/> (which starts with '/'), for a link made while answering <paramref name="request"/>.</summary>
    public string Of(HttpRequest request, string path) =>
        _root is not null ? _root + path : $"{request.Scheme}://{request.Host}{request.PathBase}{path}";
}
