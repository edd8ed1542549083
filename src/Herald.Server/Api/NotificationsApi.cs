using Herald.Delivery.Workers;
using Herald.Endpoints;
using Herald.Errors;
using Herald.Events;
using Herald.Ids;
using Herald.Server.Auth;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class NotificationsApi
{
    public static void MapNotifications(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/notifications").WithTags("Notifications");

        group.MapGet("", async (HttpContext http, IHeraldStore store, string? status, string? endpoint_id, string? entity_id,
            string? event_type, string? event_id, string? since, string? until, int? limit, string? starting_after, string? ending_before) =>
        {
            Validation.OneCursor(starting_after, ending_before, HeraldId.Notification, "a notification");
            Validation.IdFilter(endpoint_id, HeraldId.Endpoint, "endpoint_id", "an endpoint");
            Validation.IdFilter(event_id, HeraldId.Event, "event_id", "an event");
            if (status is not null && !NotificationStatuses.All.Contains(status))
            {
                throw new HeraldException(ErrorKind.BadRequest, $"unknown status {HeraldException.Quote(status)}; expected pending, succeeded or dead");
            }
            if (event_type is not null)
            {
                event_type = EventTypes.TryNormalize(event_type, out var known) ? known : throw new HeraldException(ErrorKind.BadRequest, $"unknown event type {HeraldException.Quote(event_type)}");
                // A type no format sends (a Point intent's OPEN) has no notification to list: said, not answered with an empty page.
                if (!PayloadFormats.All.Any(f => f.EventTypes().Contains(event_type, StringComparer.Ordinal)))
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"{event_type} is never notified, so no notification has it (GET /v1/event_types lists those that are)");
                }
            }
            var window = (Since: Validation.Time(since, "since"), Until: Validation.Time(until, "until"));
            Validation.Window(window.Since, window.Until);
            var query = new NotificationQuery
            {
                Status = status,
                EndpointId = endpoint_id,
                EntityId = entity_id,
                EventType = event_type,
                EventId = event_id,
                Since = window.Since,
                Until = window.Until,
                Limit = Validation.Limit(limit),
                StartingAfter = starting_after,
                EndingBefore = ending_before,
            };
            var page = await store.ListNotificationsAsync(Caller.Of(http).Merchant, query, http.RequestAborted);
            return JsonResults.Ok(ListPaging.Of(page, n => NotificationResponse.From(n)));
        })
        .Produces<ListResponse<NotificationResponse>>()
        .WithName("listNotifications")
        .WithSummary("The notification log, newest first (event_id: the notifications of one event, the webhook-id a receiver saw); pass the last id as starting_after for the next (older) page, the first id as ending_before for the previous (newer) one.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            var notification = await store.GetNotificationAsync(Caller.Of(http).Merchant, id, http.RequestAborted)
                ?? throw HeraldException.NotFound("notification", id);
            var attempts = await store.ListAttemptsAsync(id, http.RequestAborted);
            return JsonResults.Ok(NotificationResponse.From(notification, attempts));
        })
        .Produces<NotificationResponse>()
        .WithMetadata(new AlwaysAnswered("200", "payload", Microsoft.OpenApi.JsonSchemaType.Object), new AlwaysAnswered("200", "attempts", Microsoft.OpenApi.JsonSchemaType.Array, nameof(AttemptResponse)))
        .WithName("getNotification")
        .WithSummary("One notification with its payload and every attempt.");

        group.MapPost("/{id}/resend", async (string id, HttpContext http, ResendQueue resends) =>
        {
            if (!await resends.EnqueueAsync(Caller.Of(http).Merchant, id, http.RequestAborted))
            {
                throw HeraldException.NotFound("notification", id);
            }
            return JsonResults.Accepted(new AcceptedResponse(id, "resend queued"));
        })
        .TakesNoBody()
        .Produces<AcceptedResponse>(StatusCodes.Status202Accepted)
        .WithName("resendNotification")
        .Refuses(StatusCodes.Status409Conflict, "the notification's endpoint was deleted: there is nowhere to send it")
        .Refuses(StatusCodes.Status503ServiceUnavailable, EndpointsApi.ResendQueueFull)
        .WithSummary("Send a notification again now, whatever its status; recorded as a manual attempt with the same webhook-id.");
    }
}
