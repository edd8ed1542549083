using System.Globalization;
using Herald.Retry;
using Herald.Delivery.Health;
using Herald.Delivery.Sending;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Delivery: one attempt of a notification, what it leaves the notification at, and the endpoint's health after it.
public sealed partial class DeliveryWorker
{
    private async Task ProcessAsync(ClaimedNotification notification, CancellationToken abortToken)
    {
        if (notification.LeaseToken is { } token)
        {
            _held[notification.Id] = token;
        }
        var inGate = true;
        var inSlot = true;
        var recording = false;
        try
        {
            var number = notification.AttemptCount + 1;
            using var activity = DeliveryTelemetry.StartDelivery(notification, number, AttemptTriggers.Schedule);
            var result = await _sender.SendAsync(notification, number, abortToken).ConfigureAwait(false);
            DeliveryTelemetry.Answered(activity, result);
            inGate = false;
            var circuit = _gate.Exit(notification.EndpointId, result.Succeeded, TimeSpan.FromMilliseconds(result.DurationMs));
            var outcome = Decide(notification, number, result);
            await _recording.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            recording = true;
            inSlot = false;
            Interlocked.Increment(ref _sent);
            _slots.Release();
            var recorded = await _writer.RecordAsync(outcome).ConfigureAwait(false);
            recording = false;
            _recording.Release();
            _held.TryRemove(notification.Id, out _);
            if (!recorded)
            {
                DeliveryLog.LeaseLost(_logger, notification.Id);
                return;
            }
            _metrics.Attempted(result.Succeeded, AttemptTriggers.Schedule);
            if (result.Succeeded)
            {
                _metrics.Delivered(_time.GetUtcNow() - notification.CreatedAt);
            }
            if (outcome.Status == NotificationStatuses.Dead)
            {
                _metrics.Dead();
                DeliveryLog.Dead(_logger, notification.Id, notification.EventId, notification.EndpointId, notification.MerchantId, number);
            }
            else
            {
                DeliveryLog.Attempted(_logger, notification.Id, notification.EventId, number, result.Succeeded ? "succeeded" : result.Error ?? "failed");
            }
            // The endpoint's health first: an operator event that cannot be written must not keep
            // a 410 from disabling the endpoint.
            await NoteHealthAsync(notification, result, circuit).ConfigureAwait(false);
            if (outcome.Status == NotificationStatuses.Dead)
            {
                await _operatorEvents.NotificationDeadAsync(notification, number, result.Error, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (abortToken.IsCancellationRequested)
        {
            // Cut off by shutdown: nothing is recorded and the claim is released with the others.
        }
        catch (Exception e)
        {
            _failures.AttemptFailed(e, notification.Id);
        }
        finally
        {
            if (inGate)
            {
                _gate.Exit(notification.EndpointId, null);
            }
            if (recording)
            {
                _recording.Release();
            }
            if (inSlot)
            {
                _slots.Release();
            }
        }
    }

    /// <summary>
    /// The endpoint's side of an attempt: its circuit, since when it has been failing, and the
    /// disables that follow (410 Gone, or nothing but failures for too long), each told to the operator.
    /// </summary>
    private async Task NoteHealthAsync(ClaimedNotification notification, AttemptResult result, GateChange circuit)
    {
        var endpointId = notification.EndpointId;
        try
        {
            if (circuit == GateChange.Opened)
            {
                DeliveryLog.CircuitOpened(_logger, endpointId, _options.CircuitBreakerThreshold);
                try
                {
                    await _operatorEvents.EndpointFailingAsync(notification.MerchantId, endpointId, _options.CircuitBreakerThreshold,
                        result.StatusCode, result.Error, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Told or not, the endpoint's failure is still written down and may disable it below.
                    DeliveryLog.HealthFailed(_logger, e, endpointId);
                }
            }
            if (result.Succeeded)
            {
                _succeededAt[endpointId] = result.StartedAt;
                // The first success after a failure writes it down, not every attempt running beside it.
                if (_gate.SucceededFirstSinceFailure(endpointId))
                {
                    try
                    {
                        await _store.MarkEndpointHealthyAsync(endpointId, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch
                    {
                        _gate.FailedSinceSuccess(endpointId);
                        throw;
                    }
                }
                if (circuit == GateChange.Closed)
                {
                    DeliveryLog.Recovered(_logger, endpointId);
                    await _operatorEvents.EndpointRecoveredAsync(notification.MerchantId, endpointId, CancellationToken.None).ConfigureAwait(false);
                }
                return;
            }
            _gate.FailedSinceSuccess(endpointId);
            var now = _time.GetUtcNow();
            var failingSince = await _store.MarkEndpointFailingAsync(endpointId, result.StartedAt, CancellationToken.None).ConfigureAwait(false);
            string? reason = null;
            if (result.StatusCode == 410)
            {
                // Standard Webhooks: 410 Gone means the receiver wants no more; what is pending waits for a re-enable.
                reason = GoneReason;
            }
            else if (_options.AutoDisableAfter > TimeSpan.Zero && now - failingSince >= _options.AutoDisableAfter)
            {
                if (_succeededAt.TryGetValue(endpointId, out var succeeded) && succeeded > failingSince)
                {
                    // This node saw the endpoint answer since: the failure that started the count was
                    // written after that success (attempts racing), or by another node while this one,
                    // believing the endpoint healthy, had no reason to clear it. The count starts here.
                    await _store.MarkEndpointHealthyAsync(endpointId, CancellationToken.None).ConfigureAwait(false);
                    await _store.MarkEndpointFailingAsync(endpointId, result.StartedAt, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    reason = string.Create(CultureInfo.InvariantCulture, $"nothing but failures for {DeliveryOptions.SpanWords(now - failingSince)} (since {failingSince.UtcDateTime:yyyy-MM-dd HH:mm} UTC)");
                }
            }
            if (reason is not null && await _operatorEvents.DisableEndpointAsync(notification.MerchantId, endpointId, reason, now, CancellationToken.None).ConfigureAwait(false))
            {
                DeliveryLog.Disabled(_logger, endpointId, reason);
            }
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, endpointId);
        }
    }

    /// <summary>Why an endpoint that answered 410 Gone was disabled.</summary>
    internal const string GoneReason = "the endpoint answered 410 Gone";

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
            next = RetrySchedule.HonouringRetryAfter(notification.Retry, notification.CreatedAt, now, scheduled, asked);
        }
        return next is null
            ? new AttemptOutcome(attempt, NotificationStatuses.Dead, null, true, notification.LeaseToken)
            : new AttemptOutcome(attempt, NotificationStatuses.Pending, next, true, notification.LeaseToken);
    }
}
