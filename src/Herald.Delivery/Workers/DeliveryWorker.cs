using Herald.Delivery.Sending;
using Herald.Retry;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Workers;

/// <summary>
/// Claims due notifications in batches under a lease, sends them with bounded concurrency, and
/// records each attempt with where it leaves the notification.
/// </summary>
public sealed class DeliveryWorker : BackgroundService
{
    private readonly IHeraldStore _store;
    private readonly WebhookSender _sender;
    private readonly DeliverySignal _signal;
    private readonly TimeProvider _time;
    private readonly DeliveryOptions _options;
    private readonly ILogger<DeliveryWorker> _logger;
    private readonly SemaphoreSlim _slots;

    // Cancels attempts still running when the shutdown grace is over.
    private readonly CancellationTokenSource _abort = new();

    // Claims this node holds and has not recorded an outcome for: released on shutdown.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _held = new(StringComparer.Ordinal);

    private readonly DeliveryMetrics _metrics;

    public DeliveryWorker(IHeraldStore store, WebhookSender sender, DeliverySignal signal, TimeProvider time, IOptions<DeliveryOptions> options, ILogger<DeliveryWorker> logger, DeliveryMetrics metrics)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _sender = sender;
        _signal = signal;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.WorkersEnabled)
        {
            return;
        }
        DeliveryLog.Started(_logger, _options.BatchSize, _options.MaxConcurrency);
        _signal.WorkersRunning = true;
        var inFlight = new HashSet<Task>();
        var failureDelay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Take only what there are free slots for; the rest stays claimable by other nodes.
                await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var free = Math.Min(_slots.CurrentCount + 1, _options.BatchSize);
                _slots.Release();
                var claimed = await _store.ClaimDueAsync(_time.GetUtcNow(), _options.Lease, free, stoppingToken).ConfigureAwait(false);
                foreach (var notification in claimed)
                {
                    await _slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                    var task = ProcessAsync(notification, _abort.Token);
                    lock (inFlight)
                    {
                        inFlight.Add(task);
                    }
                    _ = task.ContinueWith(t =>
                    {
                        lock (inFlight)
                        {
                            inFlight.Remove(t);
                        }
                    }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                failureDelay = TimeSpan.FromSeconds(1);
                if (claimed.Count < free)
                {
                    await _signal.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The database may be away; back off and try again rather than stopping the node.
                DeliveryLog.LoopFailed(_logger, e, failureDelay);
                try
                {
                    await Task.Delay(failureDelay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                failureDelay = TimeSpan.FromTicks(Math.Min(failureDelay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
        _signal.WorkersRunning = false;
        await DrainAsync(inFlight).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful shutdown: nothing new is claimed; running attempts get the grace to finish and be
    /// recorded; the rest are cancelled and their claims handed back, so no one waits out a lease.
    /// </summary>
    private async Task DrainAsync(HashSet<Task> inFlight)
    {
        Task[] remaining;
        lock (inFlight)
        {
            remaining = [.. inFlight];
        }
        var all = Task.WhenAll(remaining);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace)).ConfigureAwait(false) != all)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }
        var held = _held.Select(p => (p.Key, p.Value)).ToList();
        if (held.Count == 0)
        {
            return;
        }
        try
        {
            await _store.ReleaseAsync(held, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            DeliveryLog.Released(_logger, held.Count);
        }
        catch (Exception e)
        {
            // The leases run out on their own; releasing only spares the wait.
            DeliveryLog.LoopFailed(_logger, e, TimeSpan.Zero);
        }
    }

    private async Task ProcessAsync(ClaimedNotification notification, CancellationToken abortToken)
    {
        if (notification.LeaseToken is { } token)
        {
            _held[notification.Id] = token;
        }
        try
        {
            var number = notification.AttemptCount + 1;
            var result = await _sender.SendAsync(notification, number, abortToken).ConfigureAwait(false);
            var outcome = Decide(notification, number, result);
            if (result.StatusCode == 410)
            {
                // Standard Webhooks: 410 Gone means the receiver wants no more; what is pending waits for a re-enable.
                await _store.DisableEndpointAsync(notification.EndpointId, "the endpoint answered 410 Gone", _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
            var recorded = await _store.RecordScheduledAttemptAsync(outcome, CancellationToken.None).ConfigureAwait(false);
            _held.TryRemove(notification.Id, out _);
            if (recorded)
            {
                _metrics.Attempted(result.Succeeded, AttemptTriggers.Schedule);
                if (result.Succeeded)
                {
                    _metrics.Delivered(_time.GetUtcNow() - notification.CreatedAt);
                }
                else if (outcome.Status == NotificationStatuses.Dead)
                {
                    _metrics.Dead();
                }
            }
            if (!recorded)
            {
                DeliveryLog.LeaseLost(_logger, notification.Id);
            }
            else if (outcome.Status == NotificationStatuses.Dead)
            {
                DeliveryLog.Dead(_logger, notification.Id, notification.EventId, number);
            }
            else
            {
                DeliveryLog.Attempted(_logger, notification.Id, notification.EventId, number, result.Succeeded ? "succeeded" : result.Error ?? "failed");
            }
        }
        catch (OperationCanceledException) when (abortToken.IsCancellationRequested)
        {
            // Cut off by shutdown: nothing is recorded and the claim is released with the others.
        }
        catch (Exception e)
        {
            DeliveryLog.AttemptFailed(_logger, e, notification.Id);
        }
        finally
        {
            _slots.Release();
        }
    }

    private AttemptOutcome Decide(ClaimedNotification notification, int number, AttemptResult result)
    {
        var attempt = new Attempt(
            Ids.HeraldId.New(Ids.HeraldId.Attempt, _time), notification.Id, number, AttemptTriggers.Schedule,
            result.StartedAt, result.DurationMs, result.StatusCode, result.Succeeded, result.Error, result.ResponseExcerpt);
        if (result.Succeeded)
        {
            return new AttemptOutcome(attempt, NotificationStatuses.Succeeded, null, false, notification.LeaseToken);
        }
        var failures = notification.Failures + 1;
        var now = _time.GetUtcNow();
        var next = RetrySchedule.Next(notification.Retry, notification.CreatedAt, failures, now, Random.Shared.NextDouble());
        if (next is { } scheduled && result.StatusCode is 429 or 503 && result.RetryAfter is { } asked)
        {
            // The receiver may slow Herald down, within [scheduled delay, 2 x scheduled delay].
            var delay = scheduled - now;
            next = now + TimeSpan.FromTicks(Math.Clamp(asked.Ticks, delay.Ticks, 2 * delay.Ticks));
        }
        return next is null
            ? new AttemptOutcome(attempt, NotificationStatuses.Dead, null, true, notification.LeaseToken)
            : new AttemptOutcome(attempt, NotificationStatuses.Pending, next, true, notification.LeaseToken);
    }

    public override void Dispose()
    {
        _slots.Dispose();
        _abort.Dispose();
        base.Dispose();
    }
}
