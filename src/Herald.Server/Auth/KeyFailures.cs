using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Herald.Server.Hosting;

namespace Herald.Server.Auth;

/// <summary>
/// Keys that matched no one, counted per client address: each unknown key would otherwise get a
/// fresh bucket of its own from the rate limiter and cost a key lookup, so guessing (or flooding
/// with made-up keys) went unlimited. Past the budget the address is answered 429 before any
/// lookup, valid keys from it included, until the budget refills.
/// </summary>
internal sealed class KeyFailures : IDisposable
{
    /// <summary>Unknown keys an address may present a second, in bursts of twice that.</summary>
    public const int PerSecond = 10;

    private readonly PartitionedRateLimiter<string>? _limiter;

    public KeyFailures(HeraldServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RateLimitPerSecond == 0)
        {
            return;
        }
        _limiter = PartitionedRateLimiter.Create<string, string>(address =>
            RateLimitPartition.Get(address, _ => new Hosting.SteadyTokenBucket(2 * PerSecond, PerSecond, TimeProvider.System)));
    }

    /// <summary>
    /// Whose budget a client's unknown keys count against: its IPv4 address, or its IPv6 address's
    /// /64 network, which a single client usually holds whole and can hop through at will.
    /// </summary>
    public static string BudgetOf(IPAddress? client)
    {
        if (client is null)
        {
            return "";
        }
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }
        if (client.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return client.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        client.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>Whether the address has used up its budget of unknown keys for now.</summary>
    // Read from the statistics: a zero-permit acquire, meant as that check, was seen to succeed on
    // an empty bucket.
    public bool Exhausted(string address) => _limiter?.GetStatistics(address) is { CurrentAvailablePermits: <= 0 };

    /// <summary>Counts one unknown key against the address.</summary>
    public void Note(string address) => _limiter?.AttemptAcquire(address).Dispose();

    public void Dispose() => _limiter?.Dispose();
}
