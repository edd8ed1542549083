using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Herald.Server.Auth;
using Herald.Server.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Hosting;

/// <summary>
/// A token bucket per API key (per client address for requests without one), so one caller
/// cannot starve the others; over the limit the answer is 429 with <c>Retry-After</c>.
/// </summary>
internal static class ApiRateLimiting
{
    public static IServiceCollection AddHeraldRateLimiting(this IServiceCollection services, HeraldServerOptions options) =>
        services.AddSingleton(_ => new KeyFailures(options)).AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (options.RateLimitPerSecond == 0 || !Caller.IsApi(http.Request))
                {
                    return RateLimitPartition.GetNoLimiter("operations");
                }
                return RateLimitPartition.GetTokenBucketLimiter(PartitionKey(http), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.RateLimitBurst,
                    TokensPerPeriod = options.RateLimitPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await ErrorHandlingMiddleware.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
                    ["too many requests for this API key; slow down and retry after the Retry-After seconds"],
                    response => response.Headers.RetryAfter = seconds);
            };
        });

    // The key itself is never kept: partitions are named by its hash; calls without one are
    // counted by client address as unknown keys are (an IPv6 client by its /64). The key is read as
    // authentication reads it, so that writing the same key another way (the scheme's case, extra
    // spaces) is the same caller with the same bucket.
    private static string PartitionKey(HttpContext http) =>
        Caller.PresentedKey(http.Request) is { } key
            ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))
            : "address:" + KeyFailures.BudgetOf(http.Connection.RemoteIpAddress);
}
