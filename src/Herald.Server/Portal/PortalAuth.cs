using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Herald.Server.Auth;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Portal;

/// <summary>
/// Portal sign-in: a merchant API key, checked as the API checks it, or a one-time link the operator
/// made. A key's session keeps the key's hash (never the key) and re-checks it on every request, so a
/// revoked key ends its sessions; a link's has no key behind it, and stands while its merchant does. The
/// operator may end every session of a merchant signed in until then, key or link. Each
/// session has an id of its own: signing out notes it as ended in the database, so that a copy of
/// its cookie is refused on every node from then on. A session lasts at most
/// <see cref="MaxSessionAge"/> from its sign-in, however often it is used.
/// </summary>
internal static class PortalAuth
{
    public const string Scheme = "HeraldPortal";

    /// <summary>The session's cookie.</summary>
    public const string CookieName = "herald_portal";
    public const string MerchantClaim = "herald:merchant";
    private const string KeyHashClaim = "herald:key_hash";
    private const string ViaLinkClaim = "herald:via_link";
    private const string SessionClaim = "herald:session";
    private const string SignedInClaim = "herald:signed_in_at";

    /// <summary>The longest a session lasts from its sign-in.</summary>
    public static readonly TimeSpan MaxSessionAge = TimeSpan.FromDays(1);

    /// <summary>
    /// Signs in with a key; returns the merchant, or null when it is not a merchant's unrevoked key
    /// (<c>ReadOnly</c> when it is one, but read-only: the portal acts, so it takes full keys only).
    /// <paramref name="backTo"/> is where the sign-in goes next: the cookie handler would otherwise
    /// redirect to the request's own <c>ReturnUrl</c> as given, unchecked.
    /// </summary>
    public static async Task<(string? MerchantId, bool ReadOnly)> SignInAsync(HttpContext http, string key, string backTo)
    {
        var hash = ApiKeys.Hash(key.Trim());
        var store = http.RequestServices.GetRequiredService<IHeraldStore>();
        if (await ApiKeys.FindAsync(store, key.Trim(), hash, http.RequestAborted) is not { RevokedAt: null } apiKey)
        {
            return (null, false);
        }
        if (apiKey.Scope != ApiKeyScopes.Full)
        {
            return (null, true);
        }
        var merchantId = apiKey.MerchantId;
        var merchant = await store.GetMerchantAsync(merchantId, http.RequestAborted);
        await StartSessionAsync(http, merchantId, merchant?.Name ?? merchantId, new Claim(KeyHashClaim, hash), backTo);
        return (merchantId, false);
    }

    /// <summary>
    /// Signs in by a one-time link, once it is used up: a session as a key's, but with no key
    /// behind it, which stands while its merchant does, until it is signed out or its time is up.
    /// </summary>
    public static Task SignInByLinkAsync(HttpContext http, string merchantId, string name, string backTo) =>
        StartSessionAsync(http, merchantId, name, new Claim(ViaLinkClaim, "1"), backTo);

    private static async Task StartSessionAsync(HttpContext http, string merchantId, string name, Claim credential, string backTo)
    {
        // A sign-in in a browser signed in already (to this merchant or another) ends the session it
        // had for good, as signing out does: a copy of its cookie taken before is refused from then on.
        await EndSessionAsync(http);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var identity = new ClaimsIdentity(
            [
                new Claim(MerchantClaim, merchantId), new Claim(ClaimTypes.Name, name), credential,
                new Claim(SessionClaim, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))),
                new Claim(SignedInClaim, now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
            ],
            Scheme);
        // A session cookie: it ends with the browser, and its lifetime is checked on the server.
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false, RedirectUri = backTo });
    }

    /// <summary>The hash of the key the session signed in with.</summary>
    public static string? KeyHashOf(ClaimsPrincipal user) => user.FindFirstValue(KeyHashClaim);

    public static string MerchantOf(ClaimsPrincipal user) =>
        user.FindFirstValue(MerchantClaim) ?? throw new InvalidOperationException("the portal page was reached without a signed-in merchant");

    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var merchant = context.Principal?.FindFirstValue(MerchantClaim);
        var hash = context.Principal?.FindFirstValue(KeyHashClaim);
        // Signed in by a link: no key behind the session.
        var viaLink = hash is null && context.Principal?.FindFirstValue(ViaLinkClaim) == "1";
        var session = SessionHash(context.Principal);
        var services = context.HttpContext.RequestServices;
        var store = services.GetRequiredService<IHeraldStore>();
        var aborted = context.HttpContext.RequestAborted;
        // The credential the rate limit read is this session's only on a portal page (on an API
        // request it is the request's key, whatever cookie comes with it).
        var credential = PortalServiceCollectionExtensions.IsPortal(context.HttpContext.Request)
            ? context.HttpContext.Items[Hosting.ApiRateLimiting.CredentialHashItem] as string
            : null;
        DateTimeOffset? signedInAt = long.TryParse(context.Principal?.FindFirstValue(SignedInClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
        if (merchant is null || (hash is null && !viaLink) || session is null || signedInAt is not { } signedIn
            || services.GetRequiredService<TimeProvider>().GetUtcNow() - signedIn > MaxSessionAge
            || await (viaLink
                ? store.PortalLinkSessionMerchantNameAsync(merchant, session, signedIn, aborted)
                : store.PortalSessionMerchantNameAsync(merchant, hash!, session, signedIn, aborted)) is not { } name)
        {
            if (credential is not null)
            {
                services.GetRequiredService<Hosting.RateLimitOwners>().Forget(credential);
            }
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }
        // The session's requests are counted in its merchant's portal bucket from now on.
        if (credential is not null)
        {
            services.GetRequiredService<Hosting.RateLimitOwners>().Note(credential, merchant);
        }
        // Renamed by the operator since the sign-in: the session shows the name as it is now.
        if (context.Principal!.Identity is ClaimsIdentity identity && identity.Name != name)
        {
            var renamed = identity.Clone();
            if (renamed.FindFirst(ClaimTypes.Name) is { } old)
            {
                renamed.RemoveClaim(old);
            }
            renamed.AddClaim(new Claim(ClaimTypes.Name, name));
            context.ReplacePrincipal(new ClaimsPrincipal(renamed));
            context.ShouldRenew = true;
        }
    }

    /// <summary>
    /// Signs out: the session is noted as ended for every node, and its cookie cleared whatever
    /// happens. False when the database could not take the note: the session then ends in this
    /// browser only.
    /// </summary>
    public static async Task<bool> SignOutAsync(HttpContext http)
    {
        try
        {
            return await EndSessionAsync(http);
        }
        finally
        {
            await http.SignOutAsync(Scheme);
        }
    }

    /// <summary>
    /// Notes the request's session, if it has one, as ended for every node. False (and logged) when
    /// the database could not take the note.
    /// </summary>
    private static async Task<bool> EndSessionAsync(HttpContext http)
    {
        try
        {
            // The request's own principal, validated already (its key and session read) on its way in.
            if (SessionHash(http.User) is { } session)
            {
                var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
                // Forgotten an hour past the longest a session lasts: nodes' clocks may differ a little.
                await http.RequestServices.GetRequiredService<IHeraldStore>().EndPortalSessionAsync(
                    session, now, now - MaxSessionAge - TimeSpan.FromHours(1), CancellationToken.None);
            }
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            PortalLog.SessionEndNotRecorded(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalAuth)), e);
            return false;
        }
    }

    /// <summary>The hash of the session's id, as the database keeps it; null for a principal without one.</summary>
    public static string? SessionHash(ClaimsPrincipal? principal) =>
        principal?.FindFirstValue(SessionClaim) is { Length: > 0 } id ? ApiKeys.Hash(id) : null;
}
