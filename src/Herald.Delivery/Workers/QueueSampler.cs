using Herald.Storage.Abstractions;
using Microsoft.Extensions.Hosting;

namespace Herald.Delivery.Workers;

/// <summary>
/// Samples the queue's depth and oldest age for the metrics every 15 s. Each sample reads every
/// pending notification (counting them, and finding the oldest): during a large backlog that is
/// real work for the database, so it is done no more often than a metrics scraper would look. Each
/// also says whether the database answered (<c>herald_database_up</c>).
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
                // The readiness check's question first: a SQLite file removed under the node still answers reads.
                var up = await store.PingAsync(stoppingToken).ConfigureAwait(false);
                if (up)
                {
                    var (pending, oldest) = await store.QueueStatsAsync(stoppingToken).ConfigureAwait(false);
                    metrics.Queue(pending, oldest is { } o ? time.GetUtcNow() - o : TimeSpan.Zero);
                }
                metrics.DatabaseAnswered(up);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A missed sample leaves the previous figures in place, and says they are not current.
                metrics.DatabaseAnswered(false);
            }
            try
            {
                // On the delivery clock, as the queue's ages are.
                await Task.Delay(Every, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
