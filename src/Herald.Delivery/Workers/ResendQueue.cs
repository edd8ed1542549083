using System.Threading.Channels;
using Herald.Errors;
using Herald.Delivery.Sending;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Manual resends: the API hands a notification over and answers 202; this service makes the
/// attempt at once, whatever the notification's status, and records it as manual.
/// </summary>
public sealed class ResendQueue : BackgroundService
{
    private const int Concurrency = 8;

    private readonly Channel<ClaimedNotification> _queue;
    private readonly int _capacity;

    private readonly IHeraldStore _store;
    private readonly WebhookSender _sender;
    private readonly TimeProvider _time;
    private readonly ILogger<ResendQueue> _logger;

    private readonly DeliveryMetrics _metrics;

    public ResendQueue(IHeraldStore store, WebhookSender sender, TimeProvider time, ILogger<ResendQueue> logger, DeliveryMetrics metrics, IOptions<DeliveryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _capacity = options.Value.ResendQueueCapacity;
        _queue = Channel.CreateBounded<ClaimedNotification>(new BoundedChannelOptions(_capacity) { FullMode = BoundedChannelFullMode.Wait });
        _metrics = metrics;
        _store = store;
        _sender = sender;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Queues a manual attempt of the merchant's notification; false when it does not exist. Refused
    /// (<see cref="HeraldException"/>) when its endpoint was deleted, or when the queue is full.
    /// </summary>
    public async Task<bool> EnqueueAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        if (await LoadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is not { } notification)
        {
            return false;
        }
        if (!_queue.Writer.TryWrite(notification))
        {
            throw Full();
        }
        return true;
    }

    /// <summary>
    /// Makes a manual attempt of the merchant's notification now and returns it once recorded; null
    /// when the notification does not exist. For callers that show the result at once (the portal).
    /// </summary>
    public async Task<Attempt?> ResendNowAsync(string merchantId, string notificationId, CancellationToken cancellationToken) =>
        await LoadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is { } notification
            ? await AttemptAsync(notification, cancellationToken).ConfigureAwait(false)
            : null;

    /// <summary>The notification with its endpoint, to be sent again; null when it does not exist, refused when its endpoint was deleted.</summary>
    private async Task<ClaimedNotification?> LoadAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        if (await _store.LoadForResendAsync(merchantId, notificationId, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is { } notification)
        {
            return notification;
        }
        // Not loaded: gone, or its endpoint deleted (a deleted endpoint's address is sent nothing more).
        return await _store.GetNotificationAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is null
            ? null
            : throw new HeraldException(ErrorKind.Conflict, $"notification {notificationId}: its endpoint was deleted, so there is nowhere to send it");
    }

    private HeraldException Full() =>
        new(ErrorKind.Unavailable, $"{_capacity:N0} resends are waiting already; try again once they have gone out");

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
    /// failed: dead ones, and pending ones whose last attempt failed. Answers how many were queued,
    /// and whether that was all of them: it stops, never waits, when the queue is full (the rest are
    /// queued by calling it again once those have gone out). Refused when nothing could be queued.
    /// </summary>
    public async Task<(int Queued, bool Complete)> RecoverAsync(string merchantId, string endpointId, DateTimeOffset since, CancellationToken cancellationToken)
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
                foreach (var listed in page.Data.Where(n => n.AttemptCount > 0))
                {
                    if (await _store.LoadForResendAsync(merchantId, listed.Id, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is not { } notification)
                    {
                        continue;
                    }
                    if (!_queue.Writer.TryWrite(notification))
                    {
                        return queued == 0 ? throw Full() : (queued, false);
                    }
                    queued++;
                }
                after = page.Data.LastOrDefault()?.Id;
            }
            while (page.HasMore);
        }
        return (queued, true);
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

    private async Task SendAsync(ClaimedNotification queued, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        try
        {
            // Read again when its turn comes: the attempt is numbered after those made while it
            // waited, and goes where the endpoint points now (nowhere, if it was deleted meanwhile).
            var notification = await _store.LoadForResendAsync(queued.MerchantId, queued.Id, _time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
            if (notification is not null)
            {
                await AttemptAsync(notification, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            DeliveryLog.AttemptFailed(_logger, e, queued.Id);
        }
        finally
        {
            slots.Release();
        }
    }
}
