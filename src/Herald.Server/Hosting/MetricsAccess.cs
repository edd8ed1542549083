using Herald.Errors;
using Herald.Server.Auth;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Hosting;

/// <summary>
/// Who may read <c>/metrics</c>: the counts are the whole node's, every merchant's together, so on
/// the API's listeners only the admin key may; on the metrics listener
/// (<see cref="HeraldServerOptions.MetricsUrls"/>, an address for the operator's scraper to reach)
/// anyone may, and nothing there but the metrics and the health checks answers.
/// </summary>
internal sealed class MetricsAccess(RequestDelegate next, AdminKey adminKey, IReadOnlySet<int> metricsPorts)
{
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Marks a route the metrics listener serves: the health checks (to anyone, wherever asked) and the
    /// metrics themselves (on the API's listeners to the admin alone). Routes are told by what
    /// routing chose, not by the path's text, which reaches them in other spellings too (<c>/metrics/</c>, <c>/METRICS</c>).
    /// </summary>
    public sealed record ServedOnMetricsListener(bool AdminElsewhere)
    {
        public static readonly ServedOnMetricsListener Anyone = new(false);
        public static readonly ServedOnMetricsListener Metrics = new(true);
    }

    public Task InvokeAsync(HttpContext context)
    {
        var served = context.GetEndpoint()?.Metadata.GetMetadata<ServedOnMetricsListener>();
        if (metricsPorts.Count > 0 && metricsPorts.Contains(context.Connection.LocalPort))
        {
            if (served is null)
            {
                throw new HeraldException(ErrorKind.NotFound, $"{context.Request.Path} not found: this is the metrics listener, which serves /metrics, /healthz and /readyz alone; the API and the portal are on the node's other addresses");
            }
            return next(context);
        }
        if (served is { AdminElsewhere: true })
        {
            var key = Caller.PresentedKey(context.Request)
                ?? throw new HeraldException(ErrorKind.Unauthorized, MetricsAdvice("missing API key"));
            if (!adminKey.MatchesHash(ApiKeys.PresentedHash(context, key)))
            {
                throw new HeraldException(ErrorKind.Forbidden, MetricsAdvice("this key is not the admin key"));
            }
        }
        return next(context);
    }

    private string MetricsAdvice(string what) =>
        $"{what}: /metrics holds every merchant's figures, so it needs the admin key (Authorization: Bearer <admin key>)"
        + (metricsPorts.Count > 0
            ? $", or a scrape on the metrics listener (port {string.Join(" or ", metricsPorts.Order())})"
            : ", or a scrape on a listener of its own (herald serve --metrics-urls)");

    /// <summary>The ports <paramref name="metricsUrls"/> (separated by <c>;</c>) listen on; every one must name its own.</summary>
    public static IReadOnlySet<int> PortsOf(string? metricsUrls)
    {
        var ports = new HashSet<int>();
        foreach (var url in (metricsUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            ports.Add(ListenAddresses.PortOf(url) is { } port and > 0
                ? port
                : throw new InvalidOperationException($"the metrics address '{url}' names no port of its own (such as http://0.0.0.0:9464)"));
        }
        return ports;
    }
}
