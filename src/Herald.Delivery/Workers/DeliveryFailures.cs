using Herald.Errors;
using Herald.Storage.Abstractions;
using Microsoft.Extensions.Logging;

namespace Herald.Delivery.Workers;

/// <summary>
/// Logs delivery's failures: one the database's absence explains (a server away, a file that
/// cannot be written) as a line with the driver's words and no stack, each kind at most once a
/// minute with how many came meanwhile, for an outage fails every attempt in flight alike; any
/// other as an error with its stack.
/// </summary>
internal sealed class DeliveryFailures(ILogger logger, TimeProvider time, IHeraldStore store)
{
    /// <summary>How long the same kind of report stays out of the log after one was written.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);

    private readonly QuietLog<int> _quiet = new(Quiet, time);

    public void AttemptFailed(Exception e, string notificationId)
    {
        if (DatabaseAway(e) is not { } said)
        {
            DeliveryLog.AttemptFailed(logger, e, notificationId);
        }
        else if (_quiet.ShouldWrite(2015, out var held))
        {
            DeliveryLog.AttemptNotRecorded(logger, notificationId, said, held);
        }
    }

    /// <summary>The loop's failure, which its back-off already spaces out.</summary>
    public void LoopFailed(Exception e, TimeSpan delay)
    {
        if (DatabaseAway(e) is { } said)
        {
            DeliveryLog.LoopWaits(logger, said, delay);
        }
        else
        {
            DeliveryLog.LoopFailed(logger, e, delay);
        }
    }

    /// <summary>The retention's purge failed; it is tried again after <paramref name="delay"/>.</summary>
    public void RetentionFailed(Exception e, TimeSpan delay)
    {
        if (DatabaseAway(e) is { } said)
        {
            DeliveryLog.RetentionWaits(logger, said, delay);
        }
        else
        {
            DeliveryLog.RetentionFailed(logger, e, delay);
        }
    }

    public void ResendsNotKept(Exception e)
    {
        if (DatabaseAway(e) is not { } said)
        {
            DeliveryLog.ResendsNotKept(logger, e);
        }
        else if (_quiet.ShouldWrite(2017, out var held))
        {
            DeliveryLog.ResendsWait(logger, said, held);
        }
    }

    /// <summary>
    /// What the driver said when <paramref name="e"/> is the database's being unusable now, as the
    /// store tells it (a server away, a full disk, a file gone), else null: any other database error
    /// (a constraint broken, a statement the database refuses) is a fault of Herald's, logged with its stack.
    /// </summary>
    private string? DatabaseAway(Exception e) => store.TroubleOf(e) is null ? null : FailureWords.Said(e);
}
