using Herald.Endpoints;
using Herald.Errors;
using Herald.Ids;
using Herald.Server.Auth;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

internal static class EventsApi
{
    public static void MapEvents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/events").WithTags("Events");

        group.MapGet("", async (HttpContext http, IHeraldStore store, string? entity_id, int? limit, string? starting_after, string? ending_before) =>
        {
            var take = ListPaging.Take(limit, starting_after, ending_before, HeraldId.Event, "an event");
            var page = await store.ListEventsAsync(Caller.Of(http).Merchant, entity_id, take, starting_after, ending_before, http.RequestAborted);
            return JsonResults.Ok(ListPaging.Of(page, EventResponse.From));
        })
        .Produces<ListResponse<EventResponse>>()
        .WithName("listEvents")
        .WithSummary("Recorded changes, newest first; starting_after (the last id) for the older page, ending_before (the first id) for the newer one.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            var evt = await store.GetEventAsync(Caller.Of(http).Merchant, id, http.RequestAborted) ?? throw HeraldException.NotFound("event", id);
            return JsonResults.Ok(EventResponse.From(evt));
        })
        .Produces<EventResponse>()
        .WithName("getEvent")
        .WithSummary("One recorded change with the entity as it was then.");

        app.MapGet("/v1/event_types", () => JsonResults.Ok(new ListResponse<EventTypeResponse>(
                PayloadFormats.All.SelectMany(format => format.EventTypes().Select(type => EventTypeResponse.Of(type, format))).ToList(), false)))
            .WithTags("Events")
            .Produces<ListResponse<EventTypeResponse>>()
            .WithName("listEventTypes")
            .WithMetadata(KeysServed.Any)
            .WithSummary("Every event type Herald notifies, with its entity, its state and the payload format that carries it: what an endpoint's event_types may name.");

        app.MapGet("/v1/event_types/{type}", (string type) =>
            {
                // DECLINED is taken for seed 003's DECINED, as everywhere a type is named; the
                // format that notifies it is the one that renders an example of it.
                var known = Herald.Events.EventTypes.TryNormalize(type, out var normalized) ? normalized : "";
                foreach (var format in PayloadFormats.All)
                {
                    if (Herald.Payloads.PayloadExamples.Render(format, known) is { } body)
                    {
                        return JsonResults.Ok(EventTypeResponse.Of(known, format) with { Example = System.Text.Json.Nodes.JsonNode.Parse(body) });
                    }
                }
                throw new HeraldException(ErrorKind.NotFound, $"event type {HeraldException.Shown(type)} not found: Herald does not notify it (GET /v1/event_types lists those it does)");
            })
            .WithTags("Events")
            .Produces<EventTypeResponse>()
            .WithName("getEventType")
            .WithMetadata(KeysServed.Any)
            .WithSummary("One event type Herald notifies, with an example of the body its endpoints receive (the seeds' own example values, rendered as every delivery is).");
    }
}

/// <summary>An event type Herald notifies; <see cref="Example"/> (the body its endpoints receive) only when one type is asked for.</summary>
public sealed record EventTypeResponse(
    string Type, string EntityType, string State, string Format,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] System.Text.Json.Nodes.JsonNode? Example = null)
{
    public static EventTypeResponse Of(string type, PayloadFormat format)
    {
        var dot = type.IndexOf('.', StringComparison.Ordinal);
        return new(type, type[..dot], type[(dot + 1)..], format.ApiName());
    }
}
