namespace Herald.Storage.Model;

/// <summary>
/// One page of a list, newest first, and whether more items lie beyond it in the direction of
/// paging: older ones after it, or, for a page asked for with <see cref="NotificationQuery.EndingBefore"/>,
/// newer ones before it.
/// </summary>
public sealed record Page<T>(IReadOnlyList<T> Data, bool HasMore);

/// <summary>Filters of the notification log.</summary>
public sealed record NotificationQuery
{
    public string? Status { get; init; }
    public string? EndpointId { get; init; }
    public string? EntityId { get; init; }
    public string? EntityKind { get; init; }
    public string? EventType { get; init; }

    /// <summary>The event (the <c>webhook-id</c> a receiver saw): its notifications, one an endpoint.</summary>
    public string? EventId { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public int Limit { get; init; } = 20;

    /// <summary>Only notifications an attempt has failed and none has succeeded since: dead, or pending after a failure (what a recover resends).</summary>
    public bool FailedOnly { get; init; }

    /// <summary>The id of the last item of the previous page: the page of older items after it.</summary>
    public string? StartingAfter { get; init; }

    /// <summary>The id of the first item of the page seen: the page of newer items just before it (still newest first).</summary>
    public string? EndingBefore { get; init; }
}
