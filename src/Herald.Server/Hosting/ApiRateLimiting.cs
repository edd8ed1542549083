using System.Globalization;
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

    // Whose budget a request was counted in (merchant, admin, address), for the 429 to say.
    private const string BucketItem = "herald.rate_bucket";

    public static IServiceCollection AddHeraldRateLimiting(this IServiceCollection services, HeraldServerOptions options) =>
        services.AddSingleton(_ => new KeyFailures(options)).AddSingleton<RateLimitOwners>().AddRateLimiter(limiter =>
        {
            RateLimitOwners? owners = null;
            AdminKey? admin = null;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var portal = PortalServiceCollectionExtensions.IsPortal(http.Request);
                if (options.RateLimitPerSecond == 0 || !(Caller.IsApi(http.Request) || portal))
                {
                    return RateLimitPartition.GetNoLimiter("operations");
                }
                owners ??= http.RequestServices.GetRequiredService<RateLimitOwners>();
                admin ??= http.RequestServices.GetRequiredService<AdminKey>();
                return RateLimitPartition.Get(PartitionKey(http, portal, owners, admin),
                    _ => new SteadyTokenBucket(options.RateLimitBurst, options.RateLimitPerSecond, TimeProvider.System));
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                var whose = (context.HttpContext.Items[BucketItem] as string) switch
                {
                    "merchant" => "for this merchant",
                    "admin" => "with the admin key",
                    _ => "from this address",
                };
                await ErrorHandlingMiddleware.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests,
                    [$"too many requests {whose}; slow down and retry after the Retry-After seconds"],
                    response => response.Headers.RetryAfter = seconds);
            };
        });

    // The key itself is never kept: a credential (an API key, a portal session) seen authenticating
    // is known by its hash, and counted in its merchant's bucket; any other request, one with a
    // credential not known (yet) included, is counted by its client address, as unknown keys are (an
    // IPv6 client by its /64), so neither made-up keys nor made-up sessions get buckets of their own.
    // The key is read as authentication reads it, so that writing the same key another way (the
    // scheme's case, extra spaces) is the same caller. The portal's requests are counted in buckets of
    // their own: a merchant's API traffic at its limit leaves its portal usable.
    private static string PartitionKey(HttpContext http, bool portal, RateLimitOwners owners, AdminKey admin)
    {
        var presented = portal ? null : Caller.PresentedKey(http.Request);
        var presentedHash = presented is null ? null : ApiKeys.PresentedHash(http, presented);
        if (presentedHash is not null && admin.MatchesHash(presentedHash))
        {
            // The operator's own bucket, whoever else calls from its address.
            http.Items[BucketItem] = "admin";
            return "admin";
        }
        var hash = portal
            ? http.Request.Cookies[PortalAuth.CookieName] is { Length: > 0 } session ? "session:" + ApiKeys.Hash(session) : null
            : presentedHash is null ? null : "key:" + presentedHash;
        if (hash is not null)
        {
            http.Items[CredentialHashItem] = hash;
            if (owners.MerchantOf(hash) is { } merchant)
            {
                http.Items[BucketItem] = "merchant";
                return (portal ? "portal-merchant:" : "merchant:") + merchant;
            }
        }
        return (portal ? "portal-address:" : "address:") + KeyFailures.BudgetOf(http.Connection.RemoteIpAddress);
    }
}
