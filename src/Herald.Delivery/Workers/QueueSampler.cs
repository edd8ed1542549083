using Herald.Storage.Abstractions;
using Microsoft.Extensions.Hosting;

namespace Herald.Delivery.Workers;

/// <summary>
/// Samples the queue's depth and oldest age for the metrics every 15 s. Each sample reads every
/// pending notification (counting them, and finding the oldest): during a large backlog that is
/// real work for the database, so it is done no more often than a metrics scraper would look.
/// </summary>
internal sealed class QueueSampler(IHeraldStore store, DeliveryMetrics metrics, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (pending, oldest) = await store.QueueStatsAsync(stoppingToken).ConfigureAwait(false);
                metrics.Queue(pending, oldest is { } o ? time.GetUtcNow() - o : TimeSpan.Zero);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A missed sample only leaves the previous figures in place.
            }
            try
            {
                await Task.Delay(Every, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
