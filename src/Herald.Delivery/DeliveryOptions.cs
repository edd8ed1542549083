using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Herald.Delivery;

/// <summary>Tunables of the delivery engine.</summary>
public sealed class DeliveryOptions
{
    /// <summary>Most notifications taken in one claim.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Most HTTP attempts in flight on this node.</summary>
    [Range(1, ConcurrencyLimit)]
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>The most <see cref="MaxConcurrency"/> may be.</summary>
    public const int ConcurrencyLimit = 10_000;

    /// <summary>How often the workers look for due work when nothing wakes them.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a claim holds a notification. Longer than the largest endpoint timeout, so a live
    /// worker never loses its claim mid-attempt; a dead worker's claims fall due when it ends.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Checks what annotations cannot: the lease must outlast the longest endpoint timeout.</summary>
    public IEnumerable<string> Problems()
    {
        if (Lease < TimeSpan.FromSeconds(2))
        {
            yield return "the lease must be at least 2 seconds";
        }
        if (PollInterval <= TimeSpan.Zero)
        {
            yield return "the poll interval must be positive";
        }
        if (ResendQueueCapacity < 1)
        {
            yield return "the resend queue must hold at least one resend";
        }
        if (ResendsPerMerchant < 1)
        {
            yield return "a merchant must be allowed at least one waiting resend";
        }
        if (EndpointsPerMerchant < 1)
        {
            yield return "a merchant must be allowed at least one endpoint";
        }
        foreach (var network in AllowedNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                yield return $"allowed network '{network}' is not a CIDR such as 10.20.0.0/16";
            }
        }
    }

    /// <summary>
    /// On shutdown, how long in-flight attempts may finish; what is still running then is cancelled
    /// and its claims released, so another node (or this one, restarted) takes them at once.
    /// </summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Finished notifications and their attempts older than this many days are purged; 0 keeps them.</summary>
    [Range(0, 36_500)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>How often the purge runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How much of each response is kept with its attempt.</summary>
    [Range(0, 65_536)]
    public int ResponseExcerptBytes { get; set; } = 4096;

    /// <summary>
    /// Development mode: endpoints may use plain http and loopback addresses. Never in production.
    /// </summary>
    public bool Development { get; set; }

    /// <summary>Networks (CIDR) that endpoints may reach although they are private.</summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>
    /// Resolves endpoint host names; the system's DNS when not set. The egress rules apply to
    /// whatever it returns.
    /// </summary>
    public Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? HostResolver { get; set; }

    /// <summary>
    /// After this many consecutive failed attempts, an endpoint gets one attempt at a time (a probe)
    /// until one succeeds.
    /// </summary>
    [Range(1, 1_000)]
    public int CircuitBreakerThreshold { get; set; } = 5;

    /// <summary>
    /// An endpoint that has had nothing but failures for this long is disabled, with its reason;
    /// zero never disables.
    /// </summary>
    public TimeSpan AutoDisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>A span as delivery says it to a merchant (an endpoint's disabled reason, the portal): <c>5 days</c>, <c>12 hours</c>.</summary>
    public static string SpanWords(TimeSpan span) =>
        span.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.#} days")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} hours");

    /// <summary>Whether the workers run on this node.</summary>
    public bool WorkersEnabled { get; set; } = true;

    /// <summary>
    /// Most resends waiting at once on this node; past it a resend is refused (503) at once rather
    /// than held until the queue has room.
    /// </summary>
    public int ResendQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// Most of one merchant's resends waiting at once on this node (at most the queue's capacity):
    /// a merchant resending or recovering in bulk leaves the rest of the queue to the others.
    /// </summary>
    public int ResendsPerMerchant { get; set; } = 2_500;

    /// <summary>
    /// Most endpoints a merchant may make (those its checkout preferences make aside, each of which
    /// receives only the orders of the preferences at its URL): each change is sent to every endpoint that wants
    /// it, so this bounds what one change becomes.
    /// </summary>
    public int EndpointsPerMerchant { get; set; } = 100;
}
