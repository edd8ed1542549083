using System.Security.Claims;
using Herald.Server.Auth;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Portal;

/// <summary>
/// Portal sign-in: a merchant API key, checked as the API checks it. The session keeps the key's
/// hash (never the key) and re-checks it on every request, so a revoked key ends its sessions.
/// </summary>
internal static class PortalAuth
{
    public const string Scheme = "HeraldPortal";
    public const string MerchantClaim = "herald:merchant";
    private const string KeyHashClaim = "herald:key_hash";

    /// <summary>
    /// Signs in with a key; returns the merchant, or null when it is not a merchant's unrevoked key.
    /// <paramref name="backTo"/> is where the sign-in goes next: the cookie handler would otherwise
    /// redirect to the request's own <c>ReturnUrl</c> as given, unchecked.
    /// </summary>
    public static async Task<string?> SignInAsync(HttpContext http, string key, string backTo)
    {
        var hash = ApiKeys.Hash(key.Trim());
        var store = http.RequestServices.GetRequiredService<IHeraldStore>();
        if (await store.FindMerchantByKeyHashAsync(hash, http.RequestAborted) is not { } merchantId)
        {
            return null;
        }
        var merchant = await store.GetMerchantAsync(merchantId, http.RequestAborted);
        var identity = new ClaimsIdentity(
            [new Claim(MerchantClaim, merchantId), new Claim(ClaimTypes.Name, merchant?.Name ?? merchantId), new Claim(KeyHashClaim, hash)],
            Scheme);
        // A session cookie: it ends with the browser, and its lifetime is checked on the server.
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false, RedirectUri = backTo });
        return merchantId;
    }

    public static string MerchantOf(ClaimsPrincipal user) =>
        user.FindFirstValue(MerchantClaim) ?? throw new InvalidOperationException("the portal page was reached without a signed-in merchant");

    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var merchant = context.Principal?.FindFirstValue(MerchantClaim);
        var hash = context.Principal?.FindFirstValue(KeyHashClaim);
        var store = context.HttpContext.RequestServices.GetRequiredService<IHeraldStore>();
        if (merchant is null || hash is null
            || await store.FindMerchantByKeyHashAsync(hash, context.HttpContext.RequestAborted) != merchant)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}
