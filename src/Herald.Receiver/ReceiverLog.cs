using Microsoft.Extensions.Logging;

namespace Herald.Receiver;

/// <summary>
/// The receiver kit's log messages (event ids 6000–6099). Secrets and bodies never appear in them:
/// a refusal names its reason, a failure the notification and what failed.
/// </summary>
internal static partial class ReceiverLog
{
    [LoggerMessage(6000, LogLevel.Information, "Refused a notification at {Path} with 401: {Reason} (webhook-id '{WebhookId}')")]
    public static partial void Refused(ILogger logger, string path, string reason, string webhookId);

    [LoggerMessage(6001, LogLevel.Information, "Refused a notification at {Path} with 413: its body is larger than {MaxBodyBytes} bytes")]
    public static partial void TooLarge(ILogger logger, string path, int maxBodyBytes);
}
