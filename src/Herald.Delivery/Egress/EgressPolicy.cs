using System.Net;
using System.Net.Sockets;

namespace Herald.Delivery.Egress;

/// <summary>
/// Which addresses Herald may connect to. Checked on the resolved address at connect time, so a
/// name that resolves to a private address (DNS rebinding included) is refused like the literal.
/// </summary>
public sealed class EgressPolicy
{
    private static readonly (IPNetwork Network, string Reason)[] Forbidden =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "a 'this network' address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address (cloud metadata)"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "a reserved address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.88.99.0/24"), "a 6to4 relay address (deprecated)"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "the unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("::/96"), "an IPv4-compatible address (deprecated)"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "a local-use translation address"),
        (IPNetwork.Parse("100::/64"), "a discard-only address"),
        (IPNetwork.Parse("2001::/32"), "a Teredo tunnel address"),
        (IPNetwork.Parse("2001:2::/48"), "a benchmarking address"),
        (IPNetwork.Parse("2001:10::/28"), "an overlay (ORCHID) address"),
        (IPNetwork.Parse("2001:20::/28"), "an overlay (ORCHID) address"),
        (IPNetwork.Parse("3fff::/20"), "a documentation address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address (deprecated)"),
        (IPNetwork.Parse("fc00::/7"), "a private address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
    ];

    /// <summary>Clouds' metadata services outside link-local space (AWS's over IPv6, Alibaba Cloud's): refused even inside an allowed network.</summary>
    private static readonly IPNetwork[] MetadataServices =
    [
        IPNetwork.Parse("fd00:ec2::254/128"),
        IPNetwork.Parse("100.100.100.200/32"),
    ];

    // IPv6 forms that carry an IPv4 address a gateway connects to: judged by that address.
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly IPNetwork[] _allowed;
    private readonly bool _allowLoopback;

    public EgressPolicy(bool allowLoopback, IEnumerable<string> allowedNetworks)
    {
        _allowLoopback = allowLoopback;
        _allowed = allowedNetworks.Select(IPNetwork.Parse).ToArray();
    }

    // What no --allow-network may open: the node itself and the cloud's metadata service.
    private static readonly (IPNetwork Network, string Reason)[] NeverAllowed =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "'this network' addresses (0.0.0.0 reaches the node itself)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback addresses"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local addresses (the cloud's metadata service)"),
        (IPNetwork.Parse("::/128"), "the unspecified address"),
        (IPNetwork.Parse("::1/128"), "the loopback address"),
        (IPNetwork.Parse("fe80::/10"), "link-local addresses"),
    ];

    /// <summary>
    /// Why <paramref name="network"/> may not be allowed for endpoints (it covers the node's own
    /// addresses or link-local ones, the cloud's metadata service among them), or null when it may.
    /// </summary>
    public static string? AllowedNetworkRefusal(IPNetwork network)
    {
        foreach (var (never, reason) in NeverAllowed)
        {
            if (never.BaseAddress.AddressFamily == network.BaseAddress.AddressFamily
                && (network.Contains(never.BaseAddress) || never.Contains(network.BaseAddress)))
            {
                return $"it covers {never} ({reason})";
            }
        }
        return null;
    }

    /// <summary>Why plain http is refused outside development mode, as an endpoint's URL and an attempt say it.</summary>
    public const string PlainHttpOnlyInDevelopment = "plain http is allowed only in development mode, herald serve --dev";

    /// <summary>
    /// Whether notifications may travel to <paramref name="uri"/> by its scheme: https always, plain
    /// http only in development mode. Seed 003 has every notification encrypted, so a node outside
    /// development mode holds to this at every attempt too, not only when an endpoint is saved: an
    /// http endpoint made while a node ran with <c>--dev</c> stays in its data folder or database.
    /// </summary>
    public static bool SchemeAllowed(Uri uri, bool development)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.Scheme == Uri.UriSchemeHttps || (development && uri.Scheme == Uri.UriSchemeHttp);
    }

    /// <summary>Why the address is refused, or <c>null</c> when it may be reached.</summary>
    public string? Refusal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Embedded(address) ?? address;
        if (_allowLoopback && IPAddress.IsLoopback(address))
        {
            return null;
        }
        // Within ranges an operator may well allow (a VPC's ULA range, CGNAT's shared addresses):
        // the one address in them that is a cloud's metadata service stays refused all the same.
        foreach (var metadata in MetadataServices)
        {
            if (metadata.BaseAddress.AddressFamily == address.AddressFamily && metadata.Contains(address))
            {
                return "a cloud metadata service address";
            }
        }
        foreach (var allowed in _allowed)
        {
            if (allowed.BaseAddress.AddressFamily == address.AddressFamily && allowed.Contains(address))
            {
                return null;
            }
        }
        foreach (var (network, reason) in Forbidden)
        {
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))
            {
                return reason;
            }
        }
        return address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 ? null : "not an IP address";
    }

    /// <summary>
    /// The IPv4 address inside an IPv4-mapped, IPv4-translated (SIIT, ::ffff:0:a.b.c.d), NAT64
    /// (well-known prefix) or 6to4 address: what the connection reaches in the end (a NAT64 gateway
    /// on an IPv6-only network turns 64:ff9b::a00:5 into 10.0.0.5).
    /// </summary>
    private static IPAddress? Embedded(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (Nat64.Contains(address) || Translated.Contains(address))
        {
            return new IPAddress(bytes[12..]);
        }
        return SixToFour.Contains(address) ? new IPAddress(bytes[2..6]) : null;
    }
}

/// <summary>A connection Herald refused to open.</summary>
public sealed class EgressRefusedException : Exception
{
    public EgressRefusedException(string message)
        : base(message)
    {
    }

    public EgressRefusedException()
    {
    }

    public EgressRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
