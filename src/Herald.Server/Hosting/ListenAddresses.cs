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
    /// <summary>The first of <paramref name="urls"/> (separated by <c>;</c>) whose port cannot be bound now because something holds it; null when none.</summary>
    public static string? FirstTaken(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (EndPointsOf(url).Any(IsTaken))
            {
                return url;
            }
        }
        return null;
    }

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

    private static bool IsTaken(IPEndPoint endPoint)
    {
        try
        {
            using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(endPoint);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // Another reason (an address this machine lacks, a family it does not have, a port it
            // forbids): the server's own bind says it, as before.
            return false;
        }
    }
}
