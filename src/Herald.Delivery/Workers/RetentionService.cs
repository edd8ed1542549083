using Herald.Storage.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Purges finished notifications and their attempts older than the retention, then the events no
/// notification refers to any more (with their idempotency keys), in small batches so that
/// recording and delivery never wait long behind it.
/// </summary>
internal sealed class RetentionService(IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> options, ILogger<RetentionService> logger) : BackgroundService
{
    private const int Batch = 500;

    /// <summary>How often the events are walked for those to purge.</summary>
    private static readonly TimeSpan EventsInterval = TimeSpan.FromDays(1);

    /// <summary>How long a failed purge waits before it is tried again.</summary>
    private static readonly TimeSpan FailedWait = TimeSpan.FromMinutes(1);

    private readonly DeliveryFailures _failures = new(logger, time, store);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.WorkersEnabled || o.RetentionDays <= 0)
        {
            return;
        }
        var eventsPurged = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var cutoff = time.GetUtcNow() - TimeSpan.FromDays(o.RetentionDays);
                // Notifications first: an event goes once none refers to it.
                var notifications = 0;
                int purged;
                do
                {
                    purged = await store.PurgeAsync(cutoff, Batch, stoppingToken).ConfigureAwait(false);
                    notifications += purged;
                }
                while (purged == Batch && !stoppingToken.IsCancellationRequested);
                var events = 0;
                // The events' walk reads every old event each entity keeps (its latest): once a day.
                if (time.GetUtcNow() - eventsPurged >= EventsInterval)
                {
                    var started = time.GetUtcNow();
                    for (string? next = ""; next is not null && !stoppingToken.IsCancellationRequested;)
                    {
                        (var deleted, next) = await store.PurgeEventsAsync(cutoff, next, Batch, stoppingToken).ConfigureAwait(false);
                        events += deleted;
                    }
                    // A walk cut short by a failure is made again at the next round, not a day later.
                    eventsPurged = started;
                }
                if (notifications > 0 || events > 0)
                {
                    DeliveryLog.Purged(logger, notifications, events, o.RetentionDays);
                }
                await Task.Delay(o.RetentionInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A full disk, a database away: a warning of one line, as delivery's; anything else, with its stack.
                _failures.RetentionFailed(e, FailedWait);
                try
                {
                    await Task.Delay(FailedWait, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
