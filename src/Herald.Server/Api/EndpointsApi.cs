using Herald.Delivery;
using Herald.Delivery.Sending;
using Herald.Delivery.Workers;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Errors;
using Herald.Events;
using Herald.Ids;
using Herald.Retry;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Endpoint = Herald.Storage.Model.Endpoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Server.Api;

internal static class EndpointsApi
{
    public const int DefaultTimeoutSeconds = 15;
    public const int MaxTimeoutSeconds = 60;

    public static void MapEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/endpoints").WithTags("Endpoints");

        group.MapPost("", async (HttpContext http, IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var key = IdempotencyKeyHeader.Read(http.Request);
            var request = await HeraldJson.ReadAsync<CreateEndpointRequest>(http.Request);
            var idempotency = IdempotencyKeyHeader.ForCreate(key, "endpoint", request);
            var endpoint = await IdempotencyKeyHeader.CreateOnceAsync(store, merchant, idempotency,
                () => EndpointOperations.CreateAsync(store, merchant, request, time, delivery.Value, idempotency, http.RequestAborted),
                // Answered again as it was: the endpoint as it is now, with its signing secret.
                async made => await store.GetEndpointAsync(merchant, made, http.RequestAborted)
                    ?? throw new HeraldException(ErrorKind.Conflict, $"this Idempotency-Key made endpoint {made}, deleted since"),
                http.RequestAborted);
            return JsonResults.Created(endpoint.Id, EndpointResponse.From(endpoint, withSecret: true));
        })
        .Accepts<CreateEndpointRequest>("application/json")
        .Produces<EndpointResponse>(StatusCodes.Status201Created)
        .WithName("createEndpoint")
        .Refuses(StatusCodes.Status409Conflict, "the merchant has its most endpoints already; or the Idempotency-Key made an endpoint deleted since")
        .Refuses(StatusCodes.Status409Conflict, EntitiesApi.KeyUnderWay)
        .WithMetadata(AlwaysAnswered.ShownOnce("secret"))
        .WithMetadata(new IdempotencyKeyHeader())
        .WithSummary("Add an endpoint; its signing secret is shown once. An Idempotency-Key header makes a retried call safe: it answers the endpoint the first call made.");

        group.MapGet("", async (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
            JsonResults.Ok(await PageAsync(store, Caller.Of(http).Merchant, limit, starting_after, ending_before, http.RequestAborted)))
        .Produces<ListResponse<EndpointResponse>>()
        .WithName("listEndpoints")
        .WithSummary("The merchant's endpoints, newest first; starting_after (the last id) for the older page, ending_before (the first id) for the newer one.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
            JsonResults.Ok(EndpointResponse.From(await LoadAsync(store, Caller.Of(http).Merchant, id, http.RequestAborted))))
        .Produces<EndpointResponse>()
        .WithName("getEndpoint")
        .WithSummary("One endpoint.");

        group.MapPatch("/{id}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) =>
        {
            var merchant = Caller.Of(http).Merchant;
            UpdateEndpointRequest request;
            try
            {
                request = await HeraldJson.ReadAsync<UpdateEndpointRequest>(http.Request);
            }
            catch (HeraldException e) when (e.Messages is ["unknown field 'format' at $.format"])
            {
                // Not a field a change takes, but one a merchant reaches for: say what to do instead.
                throw new HeraldException(ErrorKind.BadRequest, "format cannot change: make a new endpoint in the other format (and delete this one)");
            }
            var updated = await EndpointOperations.UpdateAsync(store, merchant, id, request, time, delivery.Value, http.RequestAborted);
            return JsonResults.Ok(EndpointResponse.From(updated));
        })
        .Accepts<UpdateEndpointRequest>("application/json")
        .Produces<EndpointResponse>()
        .WithName("updateEndpoint")
        .Refuses(StatusCodes.Status409Conflict, ChangedMeanwhile)
        .WithSummary("Change an endpoint's settings; enabled=false stops deliveries to it.");

        group.MapDelete("/{id}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            if (!await store.DeleteEndpointAsync(Caller.Of(http).Merchant, id, time.GetUtcNow(), http.RequestAborted))
            {
                throw HeraldException.NotFound("endpoint", id);
            }
            return Results.NoContent();
        })
        .TakesNoBody()
        .Produces(StatusCodes.Status204NoContent)
        .WithName("deleteEndpoint")
        .WithSummary("Delete an endpoint; its pending notifications die, its history stays.");

        MapRotation(group, http => Caller.Of(http).Merchant, "Endpoint");
        MapPause(group, http => Caller.Of(http).Merchant, "Endpoint");
        MapTest(group, http => Caller.Of(http).Merchant, "Endpoint");
        MapRecover(group);
    }

    /// <summary>
    /// Pause and resume, for the endpoints of the owner <paramref name="ownerOf"/> names (checking the
    /// caller may act for it); <paramref name="resource"/> ends each operation's name (pauseEndpoint).
    /// </summary>
    internal static void MapPause(RouteGroupBuilder group, Func<HttpContext, string> ownerOf, string resource)
    {
        foreach (var (action, enabled) in new[] { ("pause", false), ("resume", true) })
        {
            group.MapPost($"/{{id}}/{action}", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
            {
                var updated = await EndpointOperations.SetPausedAsync(store, ownerOf(http), id, !enabled, time, http.RequestAborted);
                return JsonResults.Ok(EndpointResponse.From(updated));
            })
            .TakesNoBody()
            .Produces<EndpointResponse>()
            .WithName(action + resource)
            .Refuses(StatusCodes.Status409Conflict, ChangedMeanwhile)
            .WithSummary(enabled
                ? "Resume a paused endpoint: everything that accumulated is delivered."
                : "Pause an endpoint: notifications keep being recorded for it and wait, none lost.");
        }
    }

    /// <summary>Secret rotation, for the endpoints of the owner <paramref name="ownerOf"/> names; its operation is rotate + <paramref name="resource"/> + Secret.</summary>
    internal static void MapRotation(RouteGroupBuilder group, Func<HttpContext, string> ownerOf, string resource)
    {
        group.MapPost("/{id}/rotate_secret", async (string id, HttpContext http, IHeraldStore store, TimeProvider time) =>
        {
            var merchant = ownerOf(http);
            var request = await HeraldJson.ReadOptionalAsync(http.Request, new RotateSecretRequest());
            return JsonResults.Ok(await EndpointOperations.RotateSecretAsync(store, merchant, id, request.GraceSeconds, time, http.RequestAborted));
        })
        .Accepts<RotateSecretRequest>(isOptional: true, "application/json")
        .Produces<RotatedSecretResponse>()
        .WithName("rotate" + resource + "Secret")
        .Refuses(StatusCodes.Status409Conflict, $"the grace would have more than {MaxSigningSecrets} secrets sign at once")
        .WithSummary("A new signing secret, shown once; the previous ones keep signing until grace_seconds (default 24 h, at most 7 days) have passed. "
            + $"At most {MaxSigningSecrets} secrets sign at once: a rotation with a grace that would make more is refused with 409 (grace_seconds 0 ends every older secret at once, and always fits).");
    }

    /// <summary>One page of a merchant's endpoints, as the API lists them (read a page at a time, never the merchant's every endpoint).</summary>
    internal static async Task<ListResponse<EndpointResponse>> PageAsync(IHeraldStore store, string merchantId, int? limit, string? startingAfter,
        string? endingBefore, CancellationToken cancellationToken)
    {
        var take = ListPaging.Take(limit, startingAfter, endingBefore, HeraldId.Endpoint, "an endpoint");
        return ListPaging.Of(await store.ListEndpointsPageAsync(merchantId, take, startingAfter, endingBefore, cancellationToken: cancellationToken), e => EndpointResponse.From(e));
    }

    /// <summary>
    /// The test notification, for the endpoints of the owner <paramref name="ownerOf"/> names; its operation is test + <paramref name="resource"/>.
    /// Without <paramref name="examples"/> (an operator webhook, which is sent Herald's own test alone) the document names no body.
    /// </summary>
    internal static void MapTest(RouteGroupBuilder group, Func<HttpContext, string> ownerOf, string resource, bool examples = true)
    {
        var route = group.MapPost("/{id}/test", async (string id, HttpContext http, IHeraldStore store, EndpointTester tester) =>
        {
            var request = await HeraldJson.ReadOptionalAsync(http.Request, new TestRequest());
            if (request.EventType is "")
            {
                // Most likely a variable left unset: said, rather than sent Herald's own test instead.
                throw new HeraldException(ErrorKind.BadRequest, "event_type is empty: name one (GET /v1/event_types lists them), or leave it out for Herald's test notification");
            }
            var endpoint = await LoadAsync(store, ownerOf(http), id, http.RequestAborted);
            var result = await tester.SendAsync(endpoint, TestEventType(endpoint, request.EventType), http.RequestAborted);
            return JsonResults.Ok(TestResultResponse.From(id, result));
        })
        .Produces<TestResultResponse>()
        .WithName("test" + resource)
        .Refuses(StatusCodes.Status429TooManyRequests, $"{EndpointTester.TestsPerMerchant} tests of the merchant's are waiting for their endpoints' answers on this node already");
        if (examples)
        {
            route.Accepts<TestRequest>(isOptional: true, "application/json")
                .WithSummary("Send the endpoint a signed test notification now (with event_type, the example of that event type in the endpoint's format) and answer with what it replied; nothing is recorded.");
        }
        else
        {
            // It reads a body only to refuse one that names an event type (or anything else): its
            // refusals of a body (400, 413, 415) are those of a route that takes none.
            route.WithMetadata(RefusesBody.Instance).WithSummary("Send the operator webhook a signed endpoint.test event now and answer with what it replied; nothing is recorded.");
        }
    }

    /// <summary>
    /// The event type an endpoint's test is asked to show an example of (null: Herald's own test
    /// notification), as the API and the portal read it: one Herald notifies (DECLINED taken for
    /// seed 003's DECINED, as everywhere a type is named) that the endpoint's format carries.
    /// </summary>
    internal static string? TestEventType(Endpoint endpoint, string? asked)
    {
        if (string.IsNullOrEmpty(asked))
        {
            return null;
        }
        if (endpoint.Format == PayloadFormat.Operator)
        {
            throw new HeraldException(ErrorKind.BadRequest, "an operator webhook's test takes no event_type: it is sent Herald's test notification");
        }
        var eventType = Herald.Events.EventTypes.TryNormalize(asked, out var normalized) && PayloadFormats.All.Any(f => f.EventTypes().Contains(normalized, StringComparer.Ordinal))
            ? normalized
            : throw new HeraldException(ErrorKind.BadRequest, $"event_type {HeraldException.Quote(asked)} is not one Herald notifies (GET /v1/event_types lists them)");
        return endpoint.Format.EventTypes().Contains(eventType, StringComparer.Ordinal)
            ? eventType
            : throw new HeraldException(ErrorKind.BadRequest, $"event_type {eventType} is not carried by the {endpoint.Format.ApiName()} format of endpoint {endpoint.Id} (GET /v1/event_types says which format carries which)");
    }

    private static void MapRecover(RouteGroupBuilder group)
    {
        group.MapPost("/{id}/recover", async (string id, HttpContext http, IHeraldStore store, ResendQueue resends, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var request = await HeraldJson.ReadAsync<RecoverRequest>(http.Request);
            var since = Validation.Time(request.Since, "since")
                ?? throw new HeraldException(ErrorKind.BadRequest, "since is required: the time from which failed notifications are sent again");
            await LoadAsync(store, merchant, id, http.RequestAborted);
            var (queued, complete) = await resends.RecoverAsync(merchant, id, since, http.RequestAborted);
            return JsonResults.Accepted(new RecoverResponse(id, queued, complete));
        })
        .Accepts<RecoverRequest>("application/json")
        .Produces<RecoverResponse>(StatusCodes.Status202Accepted)
        .WithName("recoverEndpoint")
        .Refuses(StatusCodes.Status503ServiceUnavailable, ResendQueueFull)
        .WithSummary("Send again, as manual attempts, every notification of this endpoint recorded since a time that failed (dead, or pending after a failed attempt).");
    }

    /// <summary>What a change of an endpoint that other requests' changes kept overtaking is refused with (409).</summary>
    internal const string ChangedMeanwhile = "other requests kept changing the endpoint meanwhile; try again";

    /// <summary>What a resend, or a recover that could queue none, is refused with when the resend queue is full (503).</summary>
    internal const string ResendQueueFull = "the node's resend queue, or the merchant's share of it, is full";

    public const int DefaultGraceSeconds = 24 * 60 * 60;
    public const int MaxGraceSeconds = 7 * 24 * 60 * 60;

    /// <summary>Most secrets that sign an endpoint's requests at once: the new one and those in their grace.</summary>
    public const int MaxSigningSecrets = 5;

    public static async Task<Endpoint> LoadAsync(IHeraldStore store, string merchantId, string id, CancellationToken cancellationToken) =>
        await store.GetEndpointAsync(merchantId, id, cancellationToken) ?? throw HeraldException.NotFound("endpoint", id);

    /// <summary>A new endpoint with its first secret, from a request or from a preference's webhook.</summary>
    public static Endpoint NewEndpoint(string merchantId, CreateEndpointRequest request, string source, string? preferenceId, TimeProvider time, DeliveryOptions delivery)
    {
        if (!PayloadFormats.TryParse(request.Format, out var format))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"unknown format {HeraldException.Quote(request.Format)}; expected transaction, point or thin");
        }
        var now = time.GetUtcNow();
        return new Endpoint
        {
            Id = HeraldId.New(HeraldId.Endpoint, time),
            MerchantId = merchantId,
            Url = Validation.EndpointUrl(request.Url, delivery),
            Description = Validation.OptionalText(request.Description, "description"),
            Format = format,
            // Left out or empty: every event type.
            EventTypes = request.EventTypes is null or { Count: 0 } ? null : EventTypeFilter(request.EventTypes, format),
            Success = request.Success is null ? format.DefaultSuccessRule() : ParseSuccess(request.Success),
            Retry = request.Retry is null ? format.DefaultRetryPolicy() : ParseRetry(request.Retry),
            TimeoutSeconds = Timeout(request.TimeoutSeconds),
            Ordered = request.Ordered ?? false,
            MaxConcurrency = Limit(request.MaxConcurrency, "max_concurrency", MaxConcurrencyCap),
            RateLimit = Limit(request.RateLimit, "rate_limit", RateLimitCap),
            Headers = Validation.EndpointHeaders(request.Headers),
            Source = source,
            PreferenceId = preferenceId,
            CreatedAt = now,
            UpdatedAt = now,
            Secrets = [WebhookSignature.NewSecret()],
        };
    }

    /// <summary>
    /// An endpoint's filter, each type checked and spelled as Herald spells it. A type the format
    /// never sends is refused, unless the endpoint's filter already holds it (<paramref name="kept"/>:
    /// filters saved before the check came in), so that sending a filter back as read still works.
    /// </summary>
    internal static List<string> EventTypeFilter(IReadOnlyList<string> types, PayloadFormat format, IReadOnlyList<string>? kept = null)
    {
        if (types.Count > Validation.MaxListEntries)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"event_types may hold at most {Validation.MaxListEntries} entries, not {types.Count}");
        }
        var prefix = format.EntityKind().TypeName() + ".";
        var known = new List<string>(types.Count);
        foreach (var type in types)
        {
            if (!EventTypes.TryNormalize(type, out var eventType) || !eventType.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw new HeraldException(ErrorKind.BadRequest, $"unknown event type {HeraldException.Quote(type)} for format {format.ApiName()}; expected {prefix}<STATE>");
            }
            // A filter naming only what is never sent would leave the endpoint silent for good.
            if (!format.Notifies(eventType[prefix.Length..]) && kept?.Contains(eventType) != true)
            {
                throw new HeraldException(ErrorKind.BadRequest, $"{eventType} is never notified in format {format.ApiName()}");
            }
            known.Add(eventType);
        }
        return known.Distinct(StringComparer.Ordinal).ToList();
    }

    internal static SuccessRule ParseSuccess(string value) =>
        SuccessRules.TryParse(value, out var rule) ? rule : throw new HeraldException(ErrorKind.BadRequest, $"unknown success rule {HeraldException.Quote(value)}; expected 2xx or 200");

    internal static RetryPolicy ParseRetry(string value) =>
        RetryPolicies.TryParse(value, out var policy) ? policy : throw new HeraldException(ErrorKind.BadRequest, $"unknown retry policy {HeraldException.Quote(value)}; expected exponential or hourly");

    public const int MaxConcurrencyCap = 1_000;
    public const int RateLimitCap = 10_000;

    /// <summary>A per-endpoint limit: 0 (or none) means no limit of its own.</summary>
    internal static int? Limit(int? value, string field, int cap) => value switch
    {
        null or 0 => null,
        >= 1 when value <= cap => value,
        _ => throw new HeraldException(ErrorKind.BadRequest, $"{field} must be between 1 and {cap}, or 0 for no limit"),
    };

    internal static int Timeout(int? seconds) => seconds switch
    {
        null => DefaultTimeoutSeconds,
        >= 1 and <= MaxTimeoutSeconds => seconds.Value,
        _ => throw new HeraldException(ErrorKind.BadRequest, $"timeout_seconds must be between 1 and {MaxTimeoutSeconds}"),
    };
}
