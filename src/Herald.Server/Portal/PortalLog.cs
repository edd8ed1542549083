using Microsoft.Extensions.Logging;

namespace Herald.Server.Portal;

/// <summary>The portal's log messages (event ids 4000–4099). Keys and link tokens never appear in them.</summary>
internal static partial class PortalLog
{
    [LoggerMessage(4000, LogLevel.Information, "Portal sign-in by merchant {MerchantId}")]
    public static partial void SignedIn(ILogger logger, string merchantId);

    [LoggerMessage(4001, LogLevel.Warning, "Portal sign-in refused from {Address}: the key is not a merchant's current key")]
    public static partial void SignInRefused(ILogger logger, string? address);

    [LoggerMessage(4003, LogLevel.Information, "Portal sign-in by merchant {MerchantId} through a one-time link")]
    public static partial void SignedInByLink(ILogger logger, string merchantId);

    [LoggerMessage(4004, LogLevel.Warning, "Portal sign-in link refused from {Address}: it is unknown, used or expired")]
    public static partial void LinkRefused(ILogger logger, string? address);

    [LoggerMessage(4002, LogLevel.Warning, "Portal session could not be noted as ended (signed out, or signed in again in the same browser): it ended in that browser only")]
    public static partial void SessionEndNotRecorded(ILogger logger, Exception exception);
}
