using Microsoft.Extensions.Logging;

namespace Herald.Delivery.Workers;

/// <summary>Delivery log messages; event ids 2000–2099.</summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(2000, LogLevel.Information, "Delivery workers started: batch {BatchSize}, concurrency {MaxConcurrency}")]
    public static partial void Started(ILogger logger, int batchSize, int maxConcurrency);

    [LoggerMessage(2001, LogLevel.Debug, "Notification {NotificationId} of event {EventId} attempt {Attempt}: {Outcome}")]
    public static partial void Attempted(ILogger logger, string notificationId, string eventId, int attempt, string outcome);

    [LoggerMessage(2002, LogLevel.Warning, "Notification {NotificationId} of event {EventId} to endpoint {EndpointId} (merchant {MerchantId}) is dead after {Attempts} attempts")]
    public static partial void Dead(ILogger logger, string notificationId, string eventId, string endpointId, string merchantId, int attempts);

    [LoggerMessage(2003, LogLevel.Warning, "Notification {NotificationId}: the lease was lost before the outcome was recorded; another worker owns it")]
    public static partial void LeaseLost(ILogger logger, string notificationId);

    [LoggerMessage(2004, LogLevel.Error, "Delivery loop failed; retrying after {Delay}")]
    public static partial void LoopFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(2005, LogLevel.Error, "Notification {NotificationId}: attempt could not be processed")]
    public static partial void AttemptFailed(ILogger logger, Exception exception, string notificationId);

    [LoggerMessage(2007, LogLevel.Information, "Shutdown: released {Count} claimed notifications for other nodes")]
    public static partial void Released(ILogger logger, int count);

    [LoggerMessage(2008, LogLevel.Information, "Retention: purged {Count} notifications and {Events} events older than the retention (days: {Days})")]
    public static partial void Purged(ILogger logger, int count, int events, int days);

    [LoggerMessage(2009, LogLevel.Warning, "Endpoint {EndpointId}: circuit open after {Failures} consecutive failures; one probe at a time until one succeeds")]
    public static partial void CircuitOpened(ILogger logger, string endpointId, int failures);

    [LoggerMessage(2010, LogLevel.Information, "Endpoint {EndpointId} recovered: an attempt succeeded after its circuit opened")]
    public static partial void Recovered(ILogger logger, string endpointId);

    [LoggerMessage(2011, LogLevel.Warning, "Endpoint {EndpointId} disabled: {Reason}")]
    public static partial void Disabled(ILogger logger, string endpointId, string reason);

    [LoggerMessage(2012, LogLevel.Error, "Endpoint {EndpointId}: its health could not be recorded")]
    public static partial void HealthFailed(ILogger logger, Exception exception, string endpointId);

    [LoggerMessage(2006, LogLevel.Information, "Manual resend of notification {NotificationId}: {Outcome}")]
    public static partial void Resent(ILogger logger, string notificationId, string outcome);

    [LoggerMessage(2013, LogLevel.Information, "Resends: took over {Count} kept resends (handed back by a node that stopped, or left by one that was lost)")]
    public static partial void ResendsTaken(ILogger logger, int count);

    [LoggerMessage(2014, LogLevel.Error, "Resends: the kept resends could not be updated; what is not recorded as made is sent again later")]
    public static partial void ResendsNotKept(ILogger logger, Exception exception);

    [LoggerMessage(2015, LogLevel.Warning, "Notification {NotificationId}: attempt could not be recorded, the database cannot be used: {Said}; it is claimed and sent again once its lease runs out (said once a minute: {Held} more so since)")]
    public static partial void AttemptNotRecorded(ILogger logger, string notificationId, string said, int held);

    [LoggerMessage(2016, LogLevel.Warning, "Delivery loop: the database cannot be used: {Said}; retrying after {Delay}")]
    public static partial void LoopWaits(ILogger logger, string said, TimeSpan delay);

    [LoggerMessage(2017, LogLevel.Warning, "Resends: the kept resends could not be updated, the database cannot be used: {Said}; what is not recorded as made is sent again later (said once a minute: {Held} more so since)")]
    public static partial void ResendsWait(ILogger logger, string said, int held);

    [LoggerMessage(2018, LogLevel.Warning, "Retention: the database cannot be used: {Said}; purging again after {Delay}")]
    public static partial void RetentionWaits(ILogger logger, string said, TimeSpan delay);

    [LoggerMessage(2019, LogLevel.Error, "Retention: the purge failed; purging again after {Delay}")]
    public static partial void RetentionFailed(ILogger logger, Exception exception, TimeSpan delay);
}
