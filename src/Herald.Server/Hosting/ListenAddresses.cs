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
            if (EndPointOf(url) is { } endPoint && IsTaken(endPoint))
            {
                return url;
            }
        }
        return null;
    }

    private static IPEndPoint? EndPointOf(string url)
    {
        // The server's own forms: * and + are every address; a name other than localhost is too.
        var normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        // A Unix socket (http://unix:/run/herald.sock) has no port to look at.
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Port is <= 0 || uri.Host.Equals("unix", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var address = uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns
            ? IPAddress.Loopback
            : IPAddress.TryParse(uri.DnsSafeHost, out var literal) ? literal : IPAddress.Any;
        return new IPEndPoint(address, uri.Port);
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
