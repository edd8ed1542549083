using System.Net;
using Herald.Delivery.Egress;
using Herald.Delivery;
using Herald.Errors;

namespace Herald.Server.Api;

// Checks shared by several routes: an endpoint's URL.
internal static partial class Validation
{
    /// <summary>
    /// Why a URL that looks like one (a scheme, then <c>//</c>) is not one, where that can be told:
    /// its port past 65535, or a part of its host name longer than 63 characters. Empty otherwise.
    /// </summary>
    private static string WhyNotAbsolute(string url)
    {
        var match = UrlAuthority().Match(url);
        if (!match.Success)
        {
            return "";
        }
        if (match.Groups["port"].Success && (match.Groups["port"].Value.Length > 5 || int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) > 65535))
        {
            return ": its port is beyond 65535";
        }
        return match.Groups["host"].Value.Split('.').Any(label => label.Length > 63)
            ? ": a part of its host name is longer than 63 characters"
            : "";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(?<host>\[[^\]]*\]|[^:/?#]*)(?::(?<port>[0-9]+))?(?:[/?#]|$)")]
    private static partial System.Text.RegularExpressions.Regex UrlAuthority();

    /// <summary>
    /// An endpoint URL: absolute, https (http only in development), no user-info, and — when the
    /// host is a literal address, however written — not one Herald would refuse to connect to.
    /// </summary>
    public static string EndpointUrl(string? url, DeliveryOptions options, string field = "url")
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is required");
        }
        if (url.Length > MaxUrlLength)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is longer than {MaxUrlLength} characters");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} is not an absolute URL{WhyNotAbsolute(url)}");
        }
        if (uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6) && uri.IdnHost.Split('.').Any(label => label.Length > 63))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} has a part of its host name longer than 63 characters, which no name server answers");
        }
        if (!EgressPolicy.SchemeAllowed(uri, options.Development))
        {
            throw new HeraldException(ErrorKind.BadRequest, options.Development
                ? $"{field} must use https or http"
                : $"{field} must use https ({EgressPolicy.PlainHttpOnlyInDevelopment})");
        }
        if (uri.Port == 0)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} has port 0, on which nothing can be reached");
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must not contain credentials");
        }
        // A fragment never leaves the client that holds it: a URL with one would be sent without it,
        // not as the merchant wrote it.
        if (url.Contains('#', StringComparison.Ordinal))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} must not contain a fragment (#…): it is never sent to the receiver");
        }
        // The host as it is connected to (IdnHost: 127。0。0。1 is 127.0.0.1 there), without the
        // root's trailing dot, which leaves a literal address the same address.
        if (IPAddress.TryParse(uri.IdnHost.TrimEnd('.').Trim('[', ']'), out var address)
            && new EgressPolicy(options.Development, options.AllowedNetworks).Refusal(address) is { } reason)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} points at {reason}; Herald does not deliver there");
        }
        if (!options.Development && (uri.IsLoopback || IsLoopbackName(uri.IdnHost)))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"{field} points at a loopback host; Herald does not deliver there");
        }
        return uri.AbsoluteUri;
    }

    /// <summary>
    /// A name that means this machine whatever resolves it: <c>localhost</c> and every name under it
    /// (RFC 6761), and the names hosts files give it (<c>localhost.localdomain</c>, <c>ip6-localhost</c>,
    /// <c>ip6-loopback</c>), in any case, written with the root's trailing dot or not. (Any other name
    /// that resolves to this machine is refused when Herald connects.)
    /// </summary>
    private static bool IsLoopbackName(string host)
    {
        var name = host.TrimEnd('.');
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || LoopbackNames.Contains(name);
    }

    private static readonly HashSet<string> LoopbackNames = new(StringComparer.OrdinalIgnoreCase) { "localhost.localdomain", "ip6-localhost", "ip6-loopback" };
}
