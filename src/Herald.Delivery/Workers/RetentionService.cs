using Herald.Storage.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Purges finished notifications and their attempts older than the retention, in small batches so
/// that recording and delivery never wait long behind it.
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
                var total = 0;
                int deleted;
                do
                {
                    deleted = await store.PurgeAsync(cutoff, Batch, stoppingToken).ConfigureAwait(false);
                    total += deleted;
                }
                while (deleted == Batch && !stoppingToken.IsCancellationRequested);
                if (total > 0)
                {
                    DeliveryLog.Purged(logger, total, o.RetentionDays);
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
}
