using Dapper;
using Herald.Ids;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

public abstract partial class RelationalStore
{
    private const string NotificationColumns =
        "id, merchant_id, event_id, endpoint_id, entity_kind, entity_id, event_type, status, attempt_count, next_attempt_at, last_attempt_at, last_status_code, last_error, created_at, succeeded_at, entity_version";

    public async Task<Page<Notification>> ListNotificationsAsync(string merchantId, NotificationQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var where = NotificationFilter(merchantId, query);
        var source = await NotificationsSourceAsync(merchantId, query, where, cancellationToken);
        return await ReadPageAsync<NotificationRow, Notification>($"SELECT {NotificationColumns} FROM {source}",
            where, query.Limit, query.StartingAfter, query.EndingBefore, r => r.ToModel(), cancellationToken);
    }

    /// <summary>
    /// Where <paramref name="query"/>'s notifications are read from: through the index by endpoint
    /// and status when few of them are there (<see cref="FewThroughEndpointsAsync"/>, which then
    /// adds its condition to <paramref name="where"/>), else along the merchant's log.
    /// </summary>
    private async Task<string> NotificationsSourceAsync(string merchantId, NotificationQuery query, SqlFilter where, CancellationToken cancellationToken)
    {
        var few = await FewThroughEndpointsAsync(merchantId, query, cancellationToken);
        where.AndIf(few, OfMerchantsEndpoints);
        return few ? NotificationsByEndpointSource : "notifications";
    }

    /// <summary>
    /// Where notifications are read through the index by endpoint and status: SQLite, which keeps
    /// no statistics to tell it, must be pointed at it.
    /// </summary>
    protected virtual string NotificationsByEndpointSource => "notifications";

    // Every notification of a merchant is for one of its endpoints (which are never removed, only marked deleted).
    private const string OfMerchantsEndpoints = "endpoint_id IN (SELECT id FROM endpoints WHERE merchant_id = @merchantId)";

    /// <summary>How many notifications of a status or an endpoint a log may read through the index by endpoint and status, gathered and sorted, rather than walk the merchant's log.</summary>
    private const int FewOfStatus = 5_000;

    /// <summary>
    /// Whether a log filtered by status, by the failed ones (a recover's), or by endpoint (no entity
    /// or event to go by) is read through the index by endpoint and status: when the merchant (or
    /// that endpoint) has fewer than <see cref="FewOfStatus"/> such notifications, counted in that
    /// index. Walking the merchant's log newest first until a page fills reads all of it for what
    /// it seldom has (the dead among a million delivered, an endpoint added yesterday, a failing
    /// endpoint's failures over a month); what it often has fills the page at once.
    /// </summary>
    private async Task<bool> FewThroughEndpointsAsync(string merchantId, NotificationQuery query, CancellationToken cancellationToken)
    {
        if (query is not { EntityId: null, EventId: null } || query is { Status: null, FailedOnly: false, EndpointId: null })
        {
            return false;
        }
        var ofEndpoint = query.EndpointId is null ? "" : " AND endpoint_id = @endpointId";
        var ofStatus = (query.Status is null ? "" : " AND status = @status")
            + (query.FailedOnly ? $" AND status IN ('{NotificationStatuses.Dead}', '{NotificationStatuses.Pending}')" : "");
        await using var connection = await OpenAsync(cancellationToken);
        var found = await connection.ExecuteScalarAsync<long>(Read(
            $"SELECT COUNT(*) FROM (SELECT 1 FROM {NotificationsByEndpointSource} WHERE {OfMerchantsEndpoints}{ofEndpoint}{ofStatus} LIMIT {FewOfStatus}) found",
            new { merchantId, status = query.Status, endpointId = query.EndpointId }, cancellationToken));
        return found < FewOfStatus;
    }

    /// <summary>
    /// The most bytes of documents a page of events or checkout preferences carries (at least one
    /// row whatever its size): a page of 100 documents of 256 kB was 26 MB to read, hold as a tree
    /// and write, and a few such requests at once took the node past a gigabyte.
    /// </summary>
    public const long PageBytes = 4 * 1024 * 1024;

    /// <summary>
    /// One page of <paramref name="select"/>'s rows matching <paramref name="where"/>, newest (highest
    /// id) first: the older ones after <paramref name="startingAfter"/>, or the newer ones just before
    /// <paramref name="endingBefore"/> (read from it towards the newest, then turned round). With
    /// <paramref name="sized"/> (the table and its document column), the page ends early, with more
    /// to come, where its documents would pass <see cref="PageBytes"/>: their sizes are read first.
    /// </summary>
    private async Task<Page<TModel>> ReadPageAsync<TRow, TModel>(string select, SqlFilter where, int limit, string? startingAfter,
        string? endingBefore, Func<TRow, TModel> toModel, CancellationToken cancellationToken, (string Table, string Column)? sized = null)
    {
        where.AndIf(startingAfter, "id < @startingAfter", "startingAfter");
        where.AndIf(endingBefore, "id > @endingBefore", "endingBefore");
        var backwards = !string.IsNullOrEmpty(endingBefore);
        var order = backwards ? "ASC" : "DESC";
        where.Parameters.Add("take", limit + 1);
        await using var connection = await OpenAsync(cancellationToken);
        var cut = false;
        if (sized is { } documents)
        {
            var sizes = (await connection.QueryAsync<long?>(Read(
                $"SELECT octet_length({documents.Column}) FROM {documents.Table} WHERE {where} ORDER BY id {order} LIMIT @take", where.Parameters, cancellationToken))).AsList();
            var fitting = Fitting(sizes);
            if (fitting < Math.Min(sizes.Count, limit))
            {
                // Rows recorded between the two reads may come first: the page is as many, newest first, and the next one goes on from its last.
                where.Parameters.Add("take", fitting);
                cut = true;
            }
        }
        var rows = (await connection.QueryAsync<TRow>(Read(
            $"{select} WHERE {where} ORDER BY id {order} LIMIT @take", where.Parameters, cancellationToken))).AsList();
        var page = rows.Take(limit).Select(toModel).ToList();
        if (backwards)
        {
            page.Reverse();
        }
        return new Page<TModel>(page, cut || rows.Count > limit);
    }

    /// <summary>How many of the first rows fit in <see cref="PageBytes"/> (at least one).</summary>
    private static int Fitting(List<long?> sizes)
    {
        var total = 0L;
        for (var i = 0; i < sizes.Count; i++)
        {
            total += sizes[i] ?? 0;
            if (total > PageBytes && i > 0)
            {
                return i;
            }
        }
        return sizes.Count;
    }

    /// <summary>
    /// The merchant condition of a lookup by entity or by event, which must leave the search to the
    /// notifications' index by event rather than walk the merchant's whole log.
    /// </summary>
    protected virtual string MerchantOfEntityLookup => "merchant_id = @merchantId";

    /// <summary>How far a notification's id may be taken to lie from its created_at.</summary>
    private static readonly TimeSpan IdSlack = TimeSpan.FromMinutes(5);

    /// <summary>The log's filters as a WHERE clause, the status only when the query has one (the page's cursor is added by the page reader).</summary>
    private SqlFilter NotificationFilter(string merchantId, NotificationQuery query)
    {
        var where = new SqlFilter(query.EntityId is null && query.EventId is null ? "merchant_id = @merchantId" : MerchantOfEntityLookup, new { merchantId });
        where.AndIf(query.Status, "status = @status", "status");
        where.AndIf(query.EndpointId, "endpoint_id = @endpointId", "endpointId");
        // By entity through the events: notifications keep no index by entity id of their own.
        where.AndIf(query.EntityId, $"event_id IN (SELECT id FROM events WHERE {EventsOfEntity(merchantId)})", "entityId");
        where.AndIf(query.EntityKind, "entity_kind = @entityKind", "entityKind");
        where.AndIf(query.EventType, "event_type = @eventType", "eventType");
        where.AndIf(query.EventId, "event_id = @eventId", "eventId");
        where.AndIf(Time.Ms(query.Since), "created_at >= @since", "since");
        where.AndIf(Time.Ms(query.Until), "created_at < @until", "until");
        // The same window on the ids, which begin with the millisecond they were made in (a moment
        // after created_at, on the same clock; IdSlack spares any doubt): the merchant's index then
        // seeks to the window instead of walking down from the newest to it.
        where.AndIf(query.Since is { } since && since - DateTimeOffset.UnixEpoch > IdSlack ? HeraldId.Floor(HeraldId.Notification, since - IdSlack) : null,
            "id >= @sinceId", "sinceId");
        where.AndIf(query.Until is { } until && DateTimeOffset.MaxValue - until > IdSlack ? HeraldId.Floor(HeraldId.Notification, until + IdSlack) : null,
            "id < @untilId", "untilId");
        where.AndIf(query.FailedOnly, $"status IN ('{NotificationStatuses.Dead}', '{NotificationStatuses.Pending}') AND attempt_count > 0");
        return where;
    }

    public async Task<Notification?> GetNotificationAsync(string merchantId, string id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<NotificationRow>(Read(
            $"SELECT {NotificationColumns}, {PayloadColumn} FROM notifications WHERE id = @id AND merchant_id = @merchantId",
            new { id, merchantId }, cancellationToken));
        return row?.ToModel();
    }

    /// <summary>
    /// Where the queue gauge reads pending notifications from. Pending ones are a small part of a
    /// table mostly made of finished ones: SQLite, which keeps no statistics to tell, must be
    /// pointed at the due index (which holds every pending notification and nothing else).
    /// </summary>
    protected virtual string QueueStatsSource => "notifications";

    public async Task<(long Pending, DateTimeOffset? OldestCreatedAt)> QueueStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<QueueStatsRow>(Read(
            $"SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM {QueueStatsSource} WHERE status = 'pending'", null, cancellationToken));
        return (row.pending, Time.At(row.oldest));
    }

    public async Task<IReadOnlyList<Attempt>> ListAttemptsAsync(string notificationId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<AttemptRow>(Read(
            "SELECT id, notification_id, number, trigger, started_at, duration_ms, status_code, succeeded, error, response_excerpt FROM attempts WHERE notification_id = @notificationId ORDER BY started_at, number",
            new { notificationId }, cancellationToken));
        return rows.Select(r => r.ToModel()).ToList();
    }
}
