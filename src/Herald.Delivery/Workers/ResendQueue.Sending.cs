using Herald.Delivery.Health;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Resends: the attempt of a notification let through, and what is kept of it.
public sealed partial class ResendQueue
{
    /// <summary>
    /// The attempt of a notification the endpoint's gate has let through. Its success closes the
    /// endpoint's circuit, should it be open (the operator hears the endpoint recovered); its failure
    /// does not count towards opening it. A kept request's <paramref name="step"/> is recorded with it.
    /// </summary>
    private async Task<Attempt> AttemptLetThroughAsync(ClaimedNotification notification, CancellationToken cancellationToken, ResendStep? step = null)
    {
        TimeSpan? took = null;
        bool? succeeded = null;
        Attempt attempt;
        try
        {
            attempt = await AttemptAsync(notification, (t, ok) => (took, succeeded) = (t, ok), step, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (notification.LeaseToken is not null)
        {
            // Not recorded (cut off at the end of a shutdown's grace, the database away): the lease
            // is let go, so that the next to send it need not wait for it to run out.
            await ReleaseLeaseQuietlyAsync(notification).ConfigureAwait(false);
            throw;
        }
        finally
        {
            // What it took and how it ended, once made, tell the gate how quickly the endpoint
            // answers (a merchant's slow endpoints share a part of the node) and how wide its window
            // is; a success closes its circuit, which is told whether the attempt was recorded or not.
            if (_gate.Exit(notification.EndpointId, succeeded, took, manual: true) == GateChange.Closed)
            {
                await RecoveredAsync(notification).ConfigureAwait(false);
            }
        }
        return attempt;
    }

    /// <summary>An endpoint whose circuit was open answered a resend: logged, and the operator told.</summary>
    private async Task RecoveredAsync(ClaimedNotification notification)
    {
        DeliveryLog.Recovered(_logger, notification.EndpointId);
        try
        {
            await _operatorEvents.EndpointRecoveredAsync(notification.MerchantId, notification.EndpointId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, notification.EndpointId);
        }
    }

    private async Task<Attempt> AttemptAsync(ClaimedNotification notification, Action<TimeSpan, bool> made, ResendStep? step, CancellationToken cancellationToken)
    {
        var number = notification.AttemptCount + 1;
        // In the trace of the change that caused it, as its scheduled attempts are.
        using var activity = DeliveryTelemetry.StartDelivery(notification, number, AttemptTriggers.Manual);
        var result = await _sender.SendAsync(notification, number, cancellationToken).ConfigureAwait(false);
        DeliveryTelemetry.Answered(activity, result);
        made(TimeSpan.FromMilliseconds(result.DurationMs), result.Succeeded);
        var attempt = new Attempt(
            Ids.HeraldId.New(Ids.HeraldId.Attempt, _time), notification.Id, number, AttemptTriggers.Manual,
            result.StartedAt, result.DurationMs, result.StatusCode, result.Succeeded, result.Error, result.ResponseExcerpt);
        // Once sent, the attempt is recorded even if the caller has gone; its lease ends with it, and
        // a kept request moves past it in the same commit (killed between two, the node's successor
        // would send it again).
        await _store.RecordManualAttemptAsync(attempt, notification.LeaseToken, CancellationToken.None, step).ConfigureAwait(false);
        _metrics.Attempted(result.Succeeded, AttemptTriggers.Manual);
        // Its delivery, when no attempt had reached the endpoint before (it is held under this
        // attempt's lease, so what was read is still so): timed as a scheduled attempt's is.
        if (result.Succeeded && notification.Status != NotificationStatuses.Succeeded)
        {
            _metrics.Delivered(_time.GetUtcNow() - notification.CreatedAt);
        }
        DeliveryLog.Resent(_logger, notification.Id, result.Succeeded ? "succeeded" : result.Error ?? "failed");
        if (result.Succeeded)
        {
            // Its record wrote the endpoint's failing days over.
            _gate.SucceededFirstSinceFailure(notification.EndpointId);
        }
        else
        {
            await MarkFailingAsync(notification, result.StartedAt).ConfigureAwait(false);
        }
        if (result.StatusCode == 410)
        {
            await DisableGoneAsync(notification).ConfigureAwait(false);
        }
        return attempt;
    }

    /// <summary>
    /// A resend the endpoint failed is a failure of the endpoint like any other: its failing days
    /// start then, if none had (what the merchant sees as failing_since, and auto-disable counts
    /// from). It does not count towards the circuit breaker's failures.
    /// </summary>
    private async Task MarkFailingAsync(ClaimedNotification notification, DateTimeOffset failedAt)
    {
        _gate.FailedSinceSuccess(notification.EndpointId);
        try
        {
            await _store.MarkEndpointFailingAsync(notification.EndpointId, failedAt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, notification.EndpointId);
        }
    }

    /// <summary>A 410 Gone disables the endpoint, whichever attempt met it (Standard Webhooks), and the operator is told.</summary>
    private async Task DisableGoneAsync(ClaimedNotification notification)
    {
        try
        {
            if (await _operatorEvents.DisableEndpointAsync(notification.MerchantId, notification.EndpointId, DeliveryWorker.GoneReason, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false))
            {
                DeliveryLog.Disabled(_logger, notification.EndpointId, DeliveryWorker.GoneReason);
            }
        }
        catch (Exception e)
        {
            DeliveryLog.HealthFailed(_logger, e, notification.EndpointId);
        }
    }

    private async Task SendAsync(Work work, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        // What is not sent (a run stopped, the node stopping) leaves the count all the same; what
        // is held back stays counted, as it waits in the queue again.
        var request = work.Request;
        var ids = request.NotificationIds;
        var left = work.Left;
        // Whether the request is over (all of it handled, or a run stopped): then it is forgotten.
        var over = false;
        try
        {
            for (var i = request.Done; i < ids.Count; i++)
            {
                var current = work with { Request = request with { Done = i }, HeldBack = i == request.Done ? work.HeldBack : null };
                // Stopping: nothing more is started (what is not made is handed back); and what
                // another node has taken is left to it (what waited behind it is not).
                if (stoppingToken.IsCancellationRequested || !_held.ContainsKey(request.Id))
                {
                    QueueAll(Unpark(current));
                    return;
                }
                var id = ids[i];
                Turn turn;
                try
                {
                    // Read when its turn comes. Held back (an attempt of it under way, the endpoint's
                    // limits), it steps aside and comes back to the queue once the wait is over; so
                    // too when older work of its endpoint is held back, which goes first.
                    turn = await QueuedTurnAsync(current, stoppingToken).ConfigureAwait(false);
                    if (turn.Wait is not null || turn.Behind)
                    {
                        left = 0;
                        return;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Not read (the database unavailable): nothing was sent. Let go of it: it is
                    // taken again, by this node or another, once its hold runs out.
                    _failures.AttemptFailed(e, id);
                    _held.TryRemove(request.Id, out _);
                    return;
                }
                if (turn.Ready is { } starting && !await UnderWayAsync(request, i, starting).ConfigureAwait(false))
                {
                    // Taken by another node meanwhile, or not noted: let go of, taken again once its hold runs out.
                    _held.TryRemove(request.Id, out _);
                    return;
                }
                var succeeded = false;
                // Counted until it is answered, as the queue's size promises.
                left--;
                try
                {
                    // Gone, or a recover's that succeeded meanwhile: handled, nothing sent.
                    succeeded = turn.Ready is not { } ready || (await AttemptLetThroughAsync(ready, _abort.Token,
                        new ResendStep(request.Id, _owner, i, ids.Count, request.StopAtFailure)).ConfigureAwait(false)).Succeeded;
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    // Cut off at the end of the shutdown grace: unrecorded, and kept.
                    return;
                }
                catch (Exception e)
                {
                    _failures.AttemptFailed(e, id);
                }
                finally
                {
                    _room.Give(request.MerchantId, 1);
                }
                if (request.StopAtFailure && !succeeded)
                {
                    break;
                }
                if (i + 1 < ids.Count && !await KeptAsync(() => _store.AdvanceResendAsync(request.Id, _owner, i + 1, CancellationToken.None)).ConfigureAwait(false))
                {
                    // Another node holds the run now and carries on from where it finds it.
                    _held.TryRemove(request.Id, out _);
                    return;
                }
            }
            over = true;
        }
        finally
        {
            if (over)
            {
                await KeptAsync(() => _store.RemoveResendAsync(request.Id, _owner, CancellationToken.None)).ConfigureAwait(false);
                _held.TryRemove(request.Id, out _);
            }
            _room.Give(request.MerchantId, left);
            slots.Release();
        }
    }

    /// <summary>
    /// Notes in the database, before the attempt starts, that the request's notification
    /// <paramref name="index"/> is under way, so that a recover asked from then on sends it again
    /// should it fail. When that cannot be noted (another node holds the request now, the database
    /// is away), the turn is given up unsent: its lease let go and the gate left.
    /// </summary>
    private async Task<bool> UnderWayAsync(ResendRequest request, int index, ClaimedNotification notification)
    {
        try
        {
            if (await _store.MarkResendUnderWayAsync(request.Id, _owner, index, CancellationToken.None).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
        }
        await ReleaseLeaseQuietlyAsync(notification).ConfigureAwait(false);
        _gate.Exit(notification.EndpointId, null);
        return false;
    }

    /// <summary>
    /// Records how far a kept request got; false when another node holds it now. If the write
    /// fails, this node carries on, and what it did not record may be sent again later.
    /// </summary>
    private async Task<bool> KeptAsync(Func<Task<bool>> write)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
            return true;
        }
    }

    /// <summary>Reads the merchant's notification for a resend: where its endpoint points now (null once either is gone).</summary>
    private Task<ClaimedNotification?> ReadAsync(string merchantId, string id, CancellationToken cancellationToken) =>
        _store.LoadForResendAsync(merchantId, id, _time.GetUtcNow(), cancellationToken);

    /// <summary>Lets go of a manual attempt's lease on a notification; one that cannot be let go of runs out by itself.</summary>
    private async Task ReleaseLeaseQuietlyAsync(ClaimedNotification notification)
    {
        try
        {
            // Bounded: a database away must not hold up a stop (the lease then runs out by itself).
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _store.ReleaseResendLeaseAsync(notification.Id, notification.LeaseToken!, bound.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _failures.ResendsNotKept(e);
        }
    }
}
