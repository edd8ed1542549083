using Herald.Errors;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Resends: one made while its caller waits.
public sealed partial class ResendQueue
{
    /// <summary>
    /// Makes a manual attempt of the merchant's notification now and returns it once recorded; null
    /// when the notification does not exist. For callers that show the result at once (the portal).
    /// </summary>
    public async Task<Attempt?> ResendNowAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        // Real time, as the gate's own limits count it. An attempt of it under way is waited for a
        // while (it usually ends within the endpoint's timeout); the caller waits for the answer.
        var busyUntil = DateTime.UtcNow + BusyPatience;
        Interlocked.Increment(ref _sendingNow);
        try
        {
            return await ResendNowCountedAsync(merchantId, notificationId, busyUntil, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _sendingNow);
        }
    }

    private async Task<Attempt?> ResendNowCountedAsync(string merchantId, string notificationId, DateTime busyUntil, CancellationToken cancellationToken)
    {
        // Sent from within the request that asked (the portal's): the web server's activity, one
        // nothing records, must not reach the endpoint as a traceparent; the attempt is in its
        // change's trace, as a queued resend's is.
        DeliveryTelemetry.LeaveUntracedRequest();
        ClaimedNotification? heldBack = null;
        while (true)
        {
            var turn = await TakeTurnAsync(merchantId, notificationId, onlyFailed: false, heldBack, cancellationToken).ConfigureAwait(false);
            heldBack = turn.HeldBack;
            if (turn.Ready is { } ready)
            {
                return await AttemptLetThroughAsync(ready, cancellationToken).ConfigureAwait(false);
            }
            if (turn.Wait is not { } wait)
            {
                // Not found, or its endpoint deleted (409), said as for a queued resend.
                if (await LoadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is null)
                {
                    return null;
                }
                continue;
            }
            if (turn.Busy && DateTime.UtcNow + wait > busyUntil)
            {
                throw new HeraldException(ErrorKind.Conflict, $"notification {notificationId}: another attempt of it is under way; try again once it is over");
            }
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How long a resend made while its caller waits waits for an attempt of the notification under way.</summary>
    private static readonly TimeSpan BusyPatience = TimeSpan.FromSeconds(15);

    /// <summary>The notification with its endpoint, to be sent again; null when it does not exist, refused when its endpoint was deleted.</summary>
    private async Task<ClaimedNotification?> LoadAsync(string merchantId, string notificationId, CancellationToken cancellationToken)
    {
        if (await ReadAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is { } notification)
        {
            return notification;
        }
        // Not loaded: gone, or its endpoint deleted (a deleted endpoint's address is sent nothing more).
        return await _store.GetNotificationAsync(merchantId, notificationId, cancellationToken).ConfigureAwait(false) is null
            ? null
            : throw new HeraldException(ErrorKind.Conflict, $"notification {notificationId}: its endpoint was deleted, so there is nowhere to send it");
    }
}
