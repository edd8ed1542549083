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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.WorkersEnabled || o.RetentionDays <= 0)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var cutoff = time.GetUtcNow() - TimeSpan.FromDays(o.RetentionDays);
                // Notifications first: an event goes once none refers to it.
                var notifications = await PurgeAllAsync(store.PurgeAsync, cutoff, stoppingToken).ConfigureAwait(false);
                var events = await PurgeAllAsync(store.PurgeEventsAsync, cutoff, stoppingToken).ConfigureAwait(false);
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
                DeliveryLog.LoopFailed(logger, e, TimeSpan.FromMinutes(1));
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(1), stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Runs a purge a batch at a time until a batch comes back short; answers how many went.</summary>
    private static async Task<int> PurgeAllAsync(Func<DateTimeOffset, int, CancellationToken, Task<int>> purge, DateTimeOffset cutoff, CancellationToken stoppingToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await purge(cutoff, Batch, stoppingToken).ConfigureAwait(false);
            total += deleted;
        }
        while (deleted == Batch && !stoppingToken.IsCancellationRequested);
        return total;
    }
}
