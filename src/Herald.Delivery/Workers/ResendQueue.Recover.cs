using Herald.Ids;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Workers;

// Resends: a recover of an endpoint's failed notifications.
public sealed partial class ResendQueue
{
    /// <summary>
    /// Queues a manual attempt of every notification of one endpoint recorded since a time that has
    /// failed: dead ones, and pending ones whose last attempt failed, oldest first. Answers how many
    /// were queued, and whether that was all of them: it stops reading, never waits, when the queue
    /// is full (the rest are queued by calling it again once those have gone out). Refused when
    /// nothing could be queued. An ordered endpoint's are queued as one run, sent one at a time,
    /// which stops at its first failure so that nothing newer overtakes what failed.
    /// </summary>
    public async Task<(int Queued, bool Complete)> RecoverAsync(string merchantId, string endpointId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // One recover of a merchant's at a time on this node, so that of two asked at once (a double
        // click, a retried call) the second reads what the first queued, rather than taking room for
        // the same notifications and, the queue full, being refused; other merchants' recovers, on
        // other stripes, do not wait for it (but for one sharing its stripe). Two asked of two nodes
        // at once never both queue one notification: the store keeps a recover's resends less
        // what waits by then. A resend's attempt already under way when it is asked is no resend
        // waiting: it may fail, so the recover queues its own, which goes out after it unless it
        // succeeded; one that starts after it is asked (another recover's, asked at once) is.
        var underWay = await _store.ResendsUnderWayAsync(merchantId, cancellationToken).ConfigureAwait(false);
        var stripe = StripeOf(_recovering, merchantId);
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RecoverOnceAsync(merchantId, endpointId, since, underWay, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stripe.Release();
        }
    }

    private async Task<(int Queued, bool Complete)> RecoverOnceAsync(string merchantId, string endpointId, DateTimeOffset since, IReadOnlySet<string> underWay, CancellationToken cancellationToken)
    {
        var endpoint = await _store.GetEndpointAsync(merchantId, endpointId, cancellationToken).ConfigureAwait(false);
        // What a resend already waits to send (an earlier recover, a resend asked for one by one)
        // goes out once, not once a request.
        var resending = await _store.ResendingAsync(merchantId, underWay, cancellationToken).ConfigureAwait(false);
        var room = _room.FreeFor(merchantId);
        var taken = new List<string>();
        var complete = true;
        // From the oldest up: each page is the next newer one (asked for as the page before the
        // newest seen), so reading stops once the queue's room is taken.
        var before = HeraldId.Floor(HeraldId.Notification, since);
        Page<Notification> page;
        do
        {
            // Only the failed ones are read: an endpoint's log of successes, however long, is not walked.
            var query = new NotificationQuery { EndpointId = endpointId, Since = since, Limit = 100, EndingBefore = before, FailedOnly = true };
            page = await _store.ListNotificationsAsync(merchantId, query, cancellationToken).ConfigureAwait(false);
            if (page.Data.Count == 0)
            {
                break;
            }
            before = page.Data[0].Id;
            // Oldest first, and an entity's versions in their order (several can be recorded in one millisecond).
            var failed = page.Data
                .Where(n => !resending.Contains(n.Id))
                .OrderBy(n => n.CreatedAt).ThenBy(n => n.EntityVersion).ThenBy(n => n.Id, StringComparer.Ordinal);
            foreach (var n in failed)
            {
                if (taken.Count == room)
                {
                    complete = false;
                    break;
                }
                taken.Add(n.Id);
            }
        }
        while (complete && page.HasMore);
        if (taken.Count == 0)
        {
            return complete ? (0, true) : throw Full(merchantId);
        }
        var ordered = endpoint?.Ordered == true;
        var queued = _room.Take(merchantId, taken.Count, allOrNothing: ordered);
        if (queued == 0)
        {
            throw Full(merchantId);
        }
        // What has succeeded by its turn (a scheduled retry under way meanwhile, another recover) is
        // not sent again.
        IReadOnlyList<ResendRequest> requests = ordered
            ? [NewRequest(merchantId, taken, stopAtFailure: true) with { OnlyFailed = true }]
            : taken.Take(queued).Select(id => NewRequest(merchantId, [id], stopAtFailure: false) with { OnlyFailed = true }).ToList();
        // What a recover on another node kept meanwhile is left to it: it is queued there.
        var kept = await KeepAndQueueAsync(requests, underWay, endpointId, cancellationToken).ConfigureAwait(false);
        return (kept.Sum(r => r.NotificationIds.Count), complete && queued == taken.Count);
    }
}
