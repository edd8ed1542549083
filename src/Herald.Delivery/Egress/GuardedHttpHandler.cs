using System.Net;
using System.Net.Sockets;

namespace Herald.Delivery.Egress;

/// <summary>The one pooled handler every delivery goes through: no redirects, no proxy, guarded connects.</summary>
internal static class GuardedHttpHandler
{
    /// <summary>How long making a connection (TCP, then TLS) may take, within the attempt's own time.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <param name="policy">Where deliveries may connect.</param>
    /// <param name="resolve">Resolves a host name (the system's resolver when null).</param>
    /// <param name="reuse">Whether a connection is kept for the next request; without, each is used once.</param>
    public static SocketsHttpHandler Create(EgressPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null, bool reuse = true) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        // Never through a proxy (HTTPS_PROXY and the like): the guard below would judge only the
        // proxy's address, and the proxy would connect to whatever the endpoint names.
        UseProxy = false,
        PooledConnectionLifetime = reuse ? TimeSpan.FromMinutes(5) : TimeSpan.Zero,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = ConnectTimeout,
        MaxConnectionsPerServer = 256,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, resolve ?? Dns.GetHostAddressesAsync, context.DnsEndPoint, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(EgressPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>> resolve, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(endPoint.Host, out var literal))
        {
            if (policy.Refusal(literal) is { } reason)
            {
                throw new EgressRefusedException($"refused to connect to {literal}: {reason}");
            }
            return await ConnectAsync([literal], endPoint.Port, cancellationToken).ConfigureAwait(false);
        }
        IPAddress[] addresses;
        try
        {
            addresses = await resolve(endPoint.Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            addresses = [];
        }
        // A name that does not resolve and one that resolves only where endpoints may not go are told
        // alike, and the address never: a merchant would otherwise learn which internal names exist
        // and what kind of network they are in.
        if (addresses.Length == 0 || addresses.Any(address => policy.Refusal(address) is not null))
        {
            throw new EgressRefusedException($"refused to connect to {endPoint.Host}: {UnreachableName}");
        }
        return await ConnectAsync(addresses, endPoint.Port, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Why a host name was refused, whether it resolves nowhere or to a forbidden address.</summary>
    public const string UnreachableName = "it resolves to no address endpoints may reach (it does not resolve, or to a private, loopback or reserved address)";

    private static async ValueTask<Stream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw last!;
    }
}
