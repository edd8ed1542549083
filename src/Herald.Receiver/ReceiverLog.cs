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

    // The app's own configuration, not the request, is what is wrong: said where an app logging
    // warnings and above (as production apps often do) still shows it.
    [LoggerMessage(6011, LogLevel.Warning, "Refused a notification at {Path} with 401: {Reason} (webhook-id '{WebhookId}'); every notification is refused until the endpoint's real secret (whsec_…) is configured")]
    public static partial void NoUsableSecret(ILogger logger, string path, string reason, string webhookId);

    [LoggerMessage(6001, LogLevel.Information, "Refused a notification at {Path} with 413: its body is larger than {MaxBodyBytes} bytes")]
    public static partial void TooLarge(ILogger logger, string path, int maxBodyBytes);

    [LoggerMessage(6002, LogLevel.Warning, "Notification {WebhookId}: fetching payment order {OrderId} from Herald failed; the handler did not run, and Herald's retry tries again")]
    public static partial void FetchFailed(ILogger logger, Exception exception, string webhookId, string orderId);

    [LoggerMessage(6003, LogLevel.Error, "Notification {WebhookId}: the handler failed; answered 500, so Herald's retry runs it again")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string webhookId);

    [LoggerMessage(6004, LogLevel.Warning, "Notification {WebhookId} was handled, but the idempotency store could not note it; answered 200, and it stays claimed until {ClaimedUntil}")]
    public static partial void CompleteFailed(ILogger logger, Exception exception, string webhookId, DateTimeOffset claimedUntil);

    [LoggerMessage(6005, LogLevel.Information, "Notification {WebhookId}: an example an endpoint's test sent ({What}), its webhook-id marked evt_test_; verified and answered 200, not handed to the handler")]
    public static partial void Example(ILogger logger, string webhookId, string what);

    [LoggerMessage(6006, LogLevel.Error, "Notification {WebhookId}: the idempotency store failed to claim it; the handler did not run, answered 500, so Herald's retry tries again")]
    public static partial void ClaimFailed(ILogger logger, Exception exception, string webhookId);

    [LoggerMessage(6007, LogLevel.Warning, "Notification {WebhookId}: the idempotency store failed to give back its claim after the failure; a retry is answered 409 until {ClaimedUntil}, and handled after that")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string webhookId, DateTimeOffset claimedUntil);

    [LoggerMessage(6008, LogLevel.Error, "Notification {WebhookId}: its body could not be read into the kit's typed event; the handler did not run, answered 500")]
    public static partial void Unreadable(ILogger logger, Exception exception, string webhookId);

    [LoggerMessage(6009, LogLevel.Information, "Notification {WebhookId}: the handler asked Herald to retry later; answered 503 with Retry-After {RetryAfterSeconds} s")]
    public static partial void RetryLater(ILogger logger, string webhookId, string retryAfterSeconds);

    [LoggerMessage(6010, LogLevel.Warning, "Notification {WebhookId}: the request was aborted (Herald stopped waiting after the endpoint's timeout, or the app is stopping) and the handler stopped on its token; its claim is given back, so Herald's retry runs it again")]
    public static partial void HandlerAborted(ILogger logger, Exception exception, string webhookId);
}
