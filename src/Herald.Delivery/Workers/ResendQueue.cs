using System.Threading.Channels;
using Herald.Delivery.Sending;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Delivery.Workers;

/// <summary>
/// Manual resends: the API hands a notification over and answers 202; this service makes the
/// attempt at once, whatever the notification's status, and records it as manual.
/// </summary>
public sealed class ResendQueue : BackgroundService
{
    private const int Concurrency = 8;

    private readonly Channel<ClaimedNotification> _queue = Channel.CreateBounded<ClaimedNotification>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.Wait });

    private readonly IHeraldStore _store;
    private readonly WebhookSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger<ResendQueue> _logger;

    private readonly DeliveryMetrics _metrics;

    public ResendQueue(IHeraldStore store, WebhookSender sender, TimeProvider time, ILogger<ResendQueue> logger, DeliveryMetrics metrics)
    {
        _metrics = metrics;
        _store = store;
        _sender = sender;
        _time = time;
        _logger = logger;
    }

    /// <summary>Queues a manual attempt of the merchant's notification; false when it does not exist.</summary>
    public async Task<bool> EnqueueAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        var notification = await _store.LoadForResendAsync(merchantId, notificationId, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (notification is null)
        {
            return false;
        }
        await _queue.Writer.WriteAsync(notification, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Makes a manual attempt of the merchant's notification now and returns it once recorded; null
    /// when the notification does not exist. For callers that show the result at once (the portal).
    /// </summary>
    public async Task<Attempt?> ResendNowAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        var notification = await _store.LoadForResendAsync(merchantId, notificationId, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return notification is null ? null : await AttemptAsync(notification, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Attempt> AttemptAsync(ClaimedNotification notification, CancellationToken cancellationToken)
    {
        var number = notification.AttemptCount + 1;
        var result = await _sender.SendAsync(notification, number, cancellationToken).ConfigureAwait(false);
        var attempt = new Attempt(
            Ids.HeraldId.New(Ids.HeraldId.Attempt, _time), notification.Id, number, AttemptTriggers.Manual,
            result.StartedAt, result.DurationMs, result.StatusCode, result.Succeeded, result.Error, result.ResponseExcerpt);
        // Once sent, the attempt is recorded even if the caller has gone.
        await _store.RecordManualAttemptAsync(attempt, CancellationToken.None).ConfigureAwait(false);
        _metrics.Attempted(result.Succeeded, AttemptTriggers.Manual);
        DeliveryLog.Resent(_logger, notification.Id, result.Succeeded ? "succeeded" : result.Error ?? "failed");
        return attempt;
    }

    /// <summary>
    /// Queues a manual attempt of every notification of one endpoint recorded since a time that has
    /// failed: dead ones, and pending ones whose last attempt failed. Returns how many were queued.
    /// </summary>
    public async Task<int> RecoverAsync(string merchantId, string endpointId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var queued = 0;
        foreach (var status in new[] { NotificationStatuses.Dead, NotificationStatuses.Pending })
        {
            string? after = null;
            Page<Notification> page;
            do
            {
                var query = new NotificationQuery { Status = status, EndpointId = endpointId, Since = since, Limit = 100, StartingAfter = after };
                page = await _store.ListNotificationsAsync(merchantId, query, cancellationToken).ConfigureAwait(false);
                foreach (var notification in page.Data.Where(n => n.AttemptCount > 0))
                {
                    if (await EnqueueAsync(merchantId, notification.Id, cancellationToken).ConfigureAwait(false))
                    {
                        queued++;
                    }
                }
                after = page.Data.LastOrDefault()?.Id;
            }
            while (page.HasMore);
        }
        return queued;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(Concurrency, Concurrency);
        var running = new List<Task>();
        try
        {
            await foreach (var notification in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(SendAsync(notification, slots, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task SendAsync(ClaimedNotification notification, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        try
        {
            await AttemptAsync(notification, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            DeliveryLog.AttemptFailed(_logger, e, notification.Id);
        }
        finally
        {
            slots.Release();
        }
    }
}
