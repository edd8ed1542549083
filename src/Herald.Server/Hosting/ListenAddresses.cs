using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Hosting;

/// <summary>
/// The addresses a node is to listen on, looked at before it starts: a port another process holds
/// is said in one line, before a data folder or an admin key is made or a delivery worker runs.
/// The server's own bind still decides (another process may take the port in between).
/// </summary>
public static class ListenAddresses
{
    /// <summary>
    /// The first of <paramref name="urls"/> (separated by <c>;</c>) that cannot be listened on now,
    /// with why, in words that end by saying what to do with <paramref name="option"/>: its port held
    /// by another process, an address this machine does not have, a port this user may not take.
    /// Null when none. A server bind failing after the start has made an admin key, a key ring and a
    /// lock ended in a stack trace.
    /// </summary>
    public static (string Url, string Why)? FirstUnbindable(string urls, string option)
    {
        ArgumentNullException.ThrowIfNull(urls);
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var localhost = UriOf(url) is { IsLoopback: true, HostNameType: UriHostNameType.Dns };
            foreach (var endPoint in EndPointsOf(url))
            {
                if (BindRefusal(endPoint) is not { } refused)
                {
                    continue;
                }
                // The server takes localhost on the IPv4 loopback alone when the IPv6 one cannot be had
                // (IPv6 off on the loopback interface), unless its port is held there.
                if (localhost && endPoint.AddressFamily == AddressFamily.InterNetworkV6 && refused != SocketError.AddressAlreadyInUse)
                {
                    continue;
                }
                return (url, refused switch
                {
                    SocketError.AddressAlreadyInUse => $"its port is in use by another process (another Herald node?); stop it, or choose another with {option}.",
                    SocketError.AddressNotAvailable => $"this machine has no address {endPoint.Address}; give one of its own with {option} (0.0.0.0 listens on every one).",
                    SocketError.AccessDenied => $"this user may not listen on port {endPoint.Port} (a port below 1024 needs privileges, such as the capability CAP_NET_BIND_SERVICE); choose one from 1024 up with {option}.",
                    SocketError.AddressFamilyNotSupported => $"this machine has no {(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")}; give an address it has with {option}.",
                    _ => $"{new SocketException((int)refused).Message}; choose another address with {option}.",
                });
            }
        }
        return null;
    }

    /// <summary>
    /// The host name <paramref name="url"/> listens under, when it names one other than localhost:
    /// the server then listens on every address the machine has, as <c>0.0.0.0</c> does, whatever
    /// the name's own address. Null for an address, localhost, <c>*</c> and <c>+</c>.
    /// </summary>
    public static string? HostName(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return UriOf(url) is { HostNameType: UriHostNameType.Dns, IsLoopback: false } uri ? uri.Host : null;
    }

    /// <summary>Why <paramref name="url"/> is refused for naming a host (see <see cref="HostName"/>), after its option's name and the address; null when it names none.</summary>
    public static string? HostNameRefusal(string url) => HostName(url) is { } host
        ? $"names the host '{host}', under which the server listens on every address of the machine: give the address to listen on (127.0.0.1 for this machine alone, 0.0.0.0 for every one), or localhost."
        : null;

    /// <summary>
    /// The first of <paramref name="urls"/> (separated by <c>;</c>) whose port one named before it
    /// takes already: the same address twice, or a port under every address (<c>0.0.0.0</c>) and
    /// under one of them. Null when none. Each is listened on in turn, as the server would.
    /// </summary>
    public static string? FirstRepeated(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var held = new List<Socket>();
        try
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                foreach (var endPoint in EndPointsOf(url))
                {
                    var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        socket.Bind(endPoint);
                        socket.Listen();
                        held.Add(socket);
                    }
                    catch (SocketException e)
                    {
                        socket.Dispose();
                        if (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
                        {
                            return url;
                        }
                    }
                }
            }
            return null;
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>The port <paramref name="url"/> names (0 for a port the system picks), or null when it names none (a Unix socket, say).</summary>
    public static int? PortOf(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return UriOf(url) is { Port: >= 0 } uri ? uri.Port : null;
    }

    /// <summary>
    /// <paramref name="url"/> as a URI, in the server's own forms (* and + are every address); null
    /// when it is none, or a Unix socket (http://unix:/run/herald.sock), which has no port.
    /// </summary>
    private static Uri? UriOf(string url) =>
        Parsed(url) is { } uri && !uri.Host.Equals("unix", StringComparison.OrdinalIgnoreCase) ? uri : null;

    /// <summary>Whether <paramref name="url"/> is an http:// or https:// address the server can listen on (a Unix socket's too).</summary>
    public static bool IsHttpAddress(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return Parsed(url) is { } uri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
    }

    /// <summary>
    /// Whether <paramref name="url"/> names a path (or a query) after its port: the server listens
    /// on an address's root alone, and refuses such an address only once it starts.
    /// </summary>
    public static bool HasPath(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return UriOf(url) is { } uri && (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0);
    }

    private static Uri? Parsed(string url) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri
            : null;

    /// <summary>
    /// What the server binds for <paramref name="url"/>: localhost is both loopback addresses (the
    /// IPv6 one where the machine has IPv6), as the server listens on both; a name other than
    /// localhost is every address, as * and + are. None for a URL without a port of its own.
    /// </summary>
    private static IReadOnlyList<IPEndPoint> EndPointsOf(string url)
    {
        if (UriOf(url) is not { Port: > 0 } uri)
        {
            return [];
        }
        if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns)
        {
            return Socket.OSSupportsIPv6
                ? [new IPEndPoint(IPAddress.Loopback, uri.Port), new IPEndPoint(IPAddress.IPv6Loopback, uri.Port)]
                : [new IPEndPoint(IPAddress.Loopback, uri.Port)];
        }
        var address = IPAddress.TryParse(uri.DnsSafeHost, out var literal) ? literal : IPAddress.Any;
        return [new IPEndPoint(address, uri.Port)];
    }

    /// <summary>Why <paramref name="endPoint"/> cannot be bound now; null when it can.</summary>
    private static SocketError? BindRefusal(IPEndPoint endPoint)
    {
        try
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endPoint);
            return null;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }
}
