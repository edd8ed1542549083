using Herald.Errors;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Auth;

/// <summary>Who is calling: the operator, or one merchant (with a read-only key: <paramref name="ReadOnly"/>).</summary>
public sealed record Caller(bool IsAdmin, string? MerchantId, bool ReadOnly = false)
{
    private static readonly object Key = new();

    /// <summary>The merchant calling; 403 for the admin key, which owns no merchant data.</summary>
    public string Merchant => MerchantId ?? throw new HeraldException(ErrorKind.Forbidden, "this route needs a merchant API key, not the admin key");

    public static Caller Of(HttpContext context) =>
        context.Items.TryGetValue(Key, out var caller) && caller is Caller c
            ? c
            : throw new HeraldException(ErrorKind.Unauthorized, "missing API key: send Authorization: Bearer <key>");

    public static void RequireAdmin(HttpContext context)
    {
        if (!Of(context).IsAdmin)
        {
            throw new HeraldException(ErrorKind.Forbidden, "this route needs the admin key");
        }
    }

    /// <summary>Whether the request is for the API (<c>/v1</c>, in any case: routes match without regard to it).</summary>
    internal static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase);

    /// <summary>The key a request presents (<c>Authorization: Bearer &lt;key&gt;</c>, the scheme in any case, spaces around the key ignored), or null.</summary>
    internal static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!IsBearer(header))
        {
            return null;
        }
        var key = header[Bearer.Length..].Trim();
        return key.Length == 0 ? null : key;
    }

    private const string Bearer = "Bearer";

    /// <summary>Whether a header names the Bearer scheme (in any case) and then a space or a tab before what it presents.</summary>
    private static bool IsBearer(string header) =>
        header.Length > Bearer.Length && header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && header[Bearer.Length] is ' ' or '\t';

    /// <summary>Whether the request carries an Authorization header with something other than a bearer key.</summary>
    private static bool OtherScheme(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().Trim();
        return header.Length > 0 && !header.Equals(Bearer, StringComparison.OrdinalIgnoreCase) && !IsBearer(header);
    }

    /// <summary>Authenticates <c>/v1</c> requests from their bearer key.</summary>
    internal sealed class Middleware(RequestDelegate next, AdminKey adminKey, IHeraldStore store, KeyFailures failures, Hosting.RateLimitOwners owners)
    {
        public async Task InvokeAsync(HttpContext context)
        {
            if (!IsApi(context.Request))
            {
                await next(context);
                return;
            }
            // Two headers (which arrive joined by a comma) or two keys in one: no key holds a comma
            // or a space, and which was meant is not Herald's to guess, nor a wrong key's to be
            // counted as one.
            const string MoreThanOne = "the request presents more than one Authorization header or key: send one, Authorization: Bearer <key>";
            if (context.Request.Headers.Authorization.Count > 1)
            {
                throw new HeraldException(ErrorKind.BadRequest, MoreThanOne);
            }
            if (PresentedKey(context.Request) is not { } presented)
            {
                // Another scheme's credentials are not echoed: a key sent without its scheme would be.
                throw new HeraldException(ErrorKind.Unauthorized, OtherScheme(context.Request)
                    ? "the Authorization header must use the Bearer scheme: send Authorization: Bearer <key>"
                    : "missing API key: send Authorization: Bearer <key>");
            }
            var address = KeyFailures.BudgetOf(context.Connection.RemoteIpAddress);
            var presentedHash = ApiKeys.PresentedHash(context, presented);
            if (adminKey.MatchesHash(presentedHash))
            {
                // First: an admin key of the operator's choosing (HERALD_ADMIN_KEY) may hold a space.
                context.Items[Key] = new Caller(true, null);
            }
            else if (presented.AsSpan().IndexOfAny(", \t") >= 0)
            {
                throw new HeraldException(ErrorKind.BadRequest, MoreThanOne);
            }
            else if (failures.Exhausted(address))
            {
                // Before any lookup: the budget exists to spare the database a flood of guesses.
                await Errors.ErrorHandlingMiddleware.WriteAsync(context, StatusCodes.Status429TooManyRequests,
                    ["too many unknown API keys from this address; retry after the Retry-After seconds"],
                    response => response.Headers.RetryAfter = "1");
                return;
            }
            else if (await ApiKeys.FindAsync(store, presented, presentedHash, context.RequestAborted) is var found && found is { RevokedAt: null } apiKey)
            {
                var readOnly = apiKey.Scope != Storage.Model.ApiKeyScopes.Full;
                if (readOnly && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
                {
                    throw new HeraldException(ErrorKind.Forbidden,
                        $"this API key is read-only (scope read): it may only read (GET, HEAD); {context.Request.Method} needs a full key");
                }
                context.Items[Key] = new Caller(false, apiKey.MerchantId, readOnly);
                // The key's requests are counted in its merchant's bucket from now on.
                if (context.Items[Hosting.ApiRateLimiting.CredentialHashItem] is string credential)
                {
                    owners.Note(credential, apiKey.MerchantId);
                }
            }
            else
            {
                failures.Note(address);
                if (context.Items[Hosting.ApiRateLimiting.CredentialHashItem] is string refused)
                {
                    owners.Forget(refused);
                }
                // Its holder had the key: telling it was revoked (not mistyped) tells them nothing new.
                throw new HeraldException(ErrorKind.Unauthorized, found?.RevokedAt is { } revokedAt
                    ? $"this API key was revoked (at {Api.EndpointResponse.Time(revokedAt)}); use another of the merchant's keys"
                    : "invalid API key");
            }
            await next(context);
        }
    }
}
