using Herald.Delivery;

namespace Herald.Server.Hosting;

/// <summary>How one Herald node is started.</summary>
public sealed class HeraldServerOptions
{
    public const string DefaultUrls = "http://127.0.0.1:5080";
    public const string DefaultHttpsUrls = "https://127.0.0.1:5443";
    public const int MaxRequestBodyBytes = 256 * 1024;

    /// <summary>Where Kestrel listens.</summary>
    public string Urls { get; set; } = DefaultUrls;

    /// <summary>
    /// Where the metrics listener listens (separated by <c>;</c>, each with a port of its own), or
    /// null for none: there anyone may read <c>/metrics</c> (and <c>/healthz</c>, <c>/readyz</c>),
    /// and nothing else answers; on <see cref="Urls"/> <c>/metrics</c> needs the admin key.
    /// </summary>
    public string? MetricsUrls { get; set; }

    /// <summary>The data folder (SQLite database, admin key).</summary>
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary>
    /// A PostgreSQL connection string: when set, the node uses that shared database instead of
    /// SQLite in the data folder (which then holds only the admin key).
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>
    /// A certificate to serve HTTPS with: a PFX/PKCS#12 file (password in <see cref="HttpsCertificatePassword"/>)
    /// or a PEM file with its key in <see cref="HttpsKeyPath"/> (or in the same file).
    /// </summary>
    public string? HttpsCertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="HttpsCertificatePath"/>.</summary>
    public string? HttpsKeyPath { get; set; }

    /// <summary>The PFX password.</summary>
    public string? HttpsCertificatePassword { get; set; }

    /// <summary>
    /// A certificate (with its private key; PFX or PEM, as for HTTPS) that encrypts the key ring
    /// protecting endpoint secrets where it is stored: without it, the key ring sits unencrypted
    /// with Herald's data (on PostgreSQL, in the same database). Every node needs the same one.
    /// </summary>
    public string? KeysCertificatePath { get; set; }

    /// <summary>The PFX password of <see cref="KeysCertificatePath"/>.</summary>
    public string? KeysCertificatePassword { get; set; }

    /// <summary>
    /// Proxies (addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto are believed;
    /// from anyone else those headers are ignored.
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];

    /// <summary>The network a trusted proxy names, as <see cref="TrustedProxies"/> take it (an address is a network of one); null when it names none.</summary>
    public static System.Net.IPNetwork? ProxyNetwork(string value) =>
        System.Net.IPNetwork.TryParse(value, out var network) ? network
        : System.Net.IPAddress.TryParse(value, out var address)
            ? new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32)
            : null;

    /// <summary>Private networks (CIDR) endpoints may be in, for deployments inside a private network.</summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>The operator's key; generated and kept in the data folder when not given.</summary>
    public string? AdminKey { get; set; }

    /// <summary>Development mode: plain http and loopback endpoints are allowed.</summary>
    public bool Development { get; set; }

    /// <summary>Whether this node runs delivery workers.</summary>
    public bool Workers { get; set; } = true;

    /// <summary>The clock; tests pass a fake one.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>How long a claim holds a notification (default 90 s).</summary>
    public TimeSpan? Lease { get; set; }

    /// <summary>API requests each merchant (or, without a key, each client address) may make per second, and portal requests apart; 0 turns the limit off.</summary>
    public int RateLimitPerSecond { get; set; } = 200;

    /// <summary>How many requests a merchant may make at once above its rate.</summary>
    public int RateLimitBurst { get; set; } = 400;

    /// <summary>Days after which finished notifications are purged; 0 keeps them.</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>Days of nothing but failures after which an endpoint is disabled; 0 never disables.</summary>
    public int AutoDisableDays { get; set; } = 5;

    /// <summary>Most scheduled HTTP attempts in flight at once on this node, all endpoints together (resends have slots of their own); at most <see cref="DeliveryOptions.ConcurrencyLimit"/>.</summary>
    public int Concurrency { get; set; } = new DeliveryOptions().MaxConcurrency;

    /// <summary>
    /// On a stop, how long attempts and resends already sent may take to be answered and recorded;
    /// one still unanswered then is cut off, unrecorded, and sent again by the next node.
    /// </summary>
    public TimeSpan ShutdownGrace { get; set; } = new DeliveryOptions().ShutdownGrace;

    /// <summary>Logs as lines of text (the default), or as one JSON object a line (<c>json</c>) for a log collector.</summary>
    public bool JsonLogs { get; set; }

    /// <summary>Most resends waiting at once on this node; past it a resend is answered 503.</summary>
    public int ResendQueueCapacity { get; set; } = 10_000;

    /// <summary>Most of one merchant's resends waiting at once on this node; past it its resends are answered 503.</summary>
    public int ResendsPerMerchant { get; set; } = 2_500;

    /// <summary>Most endpoints a merchant may make (its checkout preferences' aside); past it a new one is answered 409.</summary>
    public int EndpointsPerMerchant { get; set; } = 100;

    /// <summary>
    /// The address merchants reach Herald at (<c>https://hooks.example.com</c>, a path a proxy
    /// serves it under included), which the links Herald hands out are made with (a portal sign-in
    /// link's); null: the address the request asking for one came in at.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Why <paramref name="url"/> cannot be Herald's public address (see <see cref="PublicUrl"/>);
    /// null when it can: an absolute http:// or https:// address with no query, fragment or user.
    /// </summary>
    public static string? PublicUrlRefusal(string url) =>
        !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || string.IsNullOrEmpty(parsed.Host)
            ? "is not an http:// or https:// address such as https://hooks.example.com"
            : parsed.Query.Length > 0 || parsed.Fragment.Length > 0 || parsed.UserInfo.Length > 0
                ? "has a query, a fragment or a user: give the address alone, such as https://hooks.example.com"
                : null;

    /// <summary>Poll interval of the delivery workers.</summary>
    public TimeSpan? PollInterval { get; set; }
}
