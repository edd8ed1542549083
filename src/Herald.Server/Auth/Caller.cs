using Herald.Errors;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Auth;

/// <summary>Who is calling: the operator, or one merchant.</summary>
public sealed record Caller(bool IsAdmin, string? MerchantId)
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

    /// <summary>Authenticates <c>/v1</c> requests from their bearer key.</summary>
    internal sealed class Middleware(RequestDelegate next, AdminKey adminKey, IHeraldStore store)
    {
        public async Task InvokeAsync(HttpContext context)
        {
            if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
            {
                await next(context);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            const string bearer = "Bearer ";
            if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || header.Length == bearer.Length)
            {
                throw new HeraldException(ErrorKind.Unauthorized, "missing API key: send Authorization: Bearer <key>");
            }
            var presented = header[bearer.Length..].Trim();
            if (ApiKeys.Matches(presented, adminKey.Value))
            {
                context.Items[Key] = new Caller(true, null);
            }
            else if (await store.FindMerchantByKeyHashAsync(ApiKeys.Hash(presented), context.RequestAborted) is { } merchantId)
            {
                context.Items[Key] = new Caller(false, merchantId);
            }
            else
            {
                throw new HeraldException(ErrorKind.Unauthorized, "invalid API key");
            }
            await next(context);
        }
    }
}
