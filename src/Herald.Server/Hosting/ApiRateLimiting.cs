using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Herald.Server.Auth;
using Herald.Server.Errors;
using Herald.Server.Portal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Hosting;

/// <summary>
/// A token bucket per merchant for the API and another for the portal (per API key or portal session
/// until it is first seen authenticating, per client address for requests with neither), so one
/// caller cannot starve the others; over the limit the answer is 429 with <c>Retry-After</c>.
/// </summary>
internal static class ApiRateLimiting
{
    /// <summary>Where the limit leaves the hash of the credential a request presents, for <see cref="RateLimitOwners"/>.</summary>
    public const string CredentialHashItem = "herald.credential_hash";

    public static IServiceCollection AddHeraldRateLimiting(this IServiceCollection services, HeraldServerOptions options) =>
        services.AddSingleton(_ => new KeyFailures(options)).AddSingleton<RateLimitOwners>().AddRateLimiter(limiter =>
        {
            RateLimitOwners? owners = null;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var portal = http.Request.Path.StartsWithSegments(Portal.PortalServiceCollectionExtensions.BasePath, StringComparison.OrdinalIgnoreCase);
                if (options.RateLimitPerSecond == 0 || !(Caller.IsApi(http.Request) || portal))
                {
                    return RateLimitPartition.GetNoLimiter("operations");
                }
                owners ??= http.RequestServices.GetRequiredService<RateLimitOwners>();
                return RateLimitPartition.GetTokenBucketLimiter(PartitionKey(http, portal, owners), _ => new TokenBucketRateLimiterOptions
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
                    ["too many requests for this merchant; slow down and retry after the Retry-After seconds"],
                    response => response.Headers.RetryAfter = seconds);
            };
        });

    // The key itself is never kept: partitions are named by its hash, or once the key has been seen
    // authenticating, by its merchant; calls without one are counted by client address as unknown
    // keys are (an IPv6 client by its /64). The key is read as authentication reads it, so that
    // writing the same key another way (the scheme's case, extra spaces) is the same caller with the
    // same bucket. The portal's sessions are counted alike, in buckets of their own: a merchant's API
    // traffic at its limit leaves its portal usable.
    private static string PartitionKey(HttpContext http, bool portal, RateLimitOwners owners)
    {
        var credential = portal
            ? http.Request.Cookies[PortalAuth.CookieName] is { Length: > 0 } session ? "session:" + session : null
            : Caller.PresentedKey(http.Request) is { } key ? "key:" + key : null;
        if (credential is null)
        {
            return (portal ? "portal-address:" : "address:") + KeyFailures.BudgetOf(http.Connection.RemoteIpAddress);
        }
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential)));
        http.Items[CredentialHashItem] = hash;
        return owners.MerchantOf(hash) is { } merchant ? (portal ? "portal-merchant:" : "merchant:") + merchant : hash;
    }
}
