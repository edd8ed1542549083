using System.Net;
using System.Net.Sockets;

namespace Herald.Delivery.Egress;

/// <summary>The one pooled handler every delivery goes through: no redirects, no proxy, guarded connects.</summary>
internal static class GuardedHttpHandler
{
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
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = 256,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, resolve ?? Dns.GetHostAddressesAsync, context.DnsEndPoint, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(EgressPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>> resolve, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var isLiteral = IPAddress.TryParse(endPoint.Host, out var literal);
        var addresses = isLiteral
            ? [literal!]
            : await resolve(endPoint.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new EgressRefusedException($"{endPoint.Host} does not resolve");
        }
        foreach (var address in addresses)
        {
            if (policy.Refusal(address) is { } reason)
            {
                // A name's address is not told: the merchant would learn what internal names resolve to.
                throw new EgressRefusedException(isLiteral
                    ? $"refused to connect to {address}: {reason}"
                    : $"refused to connect to {endPoint.Host}: it resolves to {reason}");
            }
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, endPoint.Port, cancellationToken).ConfigureAwait(false);
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
