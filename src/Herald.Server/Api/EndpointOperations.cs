using Herald.Endpoints;
using Herald.Delivery;
using Herald.Errors;
using Herald.Signing;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Api;

/// <summary>
/// What a merchant can do to one of its endpoints, shared by the API and the portal so that both
/// validate and record alike. An id the merchant does not own is a 404.
/// </summary>
internal static class EndpointOperations
{
    /// <summary>Adds an endpoint with its first signing secret (in <c>Secrets[0]</c>, to be shown once).</summary>
    public static async Task<Endpoint> CreateAsync(IHeraldStore store, string merchantId, CreateEndpointRequest request,
        TimeProvider time, DeliveryOptions delivery, CancellationToken cancellationToken) =>
        (await CreateAsync(store, merchantId, request, time, delivery, null, cancellationToken))!;

    /// <summary>
    /// Adds an endpoint as the other overload does, the caller's Idempotency-Key (<paramref name="idempotency"/>)
    /// taken for it: null when an earlier request took the key (nothing made).
    /// </summary>
    public static async Task<Endpoint?> CreateAsync(IHeraldStore store, string merchantId, CreateEndpointRequest request,
        TimeProvider time, DeliveryOptions delivery, (string Key, string RequestHash)? idempotency, CancellationToken cancellationToken)
    {
        var endpoint = EndpointsApi.NewEndpoint(merchantId, request, EndpointSources.Api, null, time, delivery);
        // Every change goes to each of a merchant's endpoints that wants it: without a bound, one
        // request would fan out into as many rows and POSTs as endpoints a merchant cared to make.
        return await store.CreateEndpointWithinAsync(endpoint, delivery.EndpointsPerMerchant, idempotency, cancellationToken) switch
        {
            Creation.Created => endpoint,
            Creation.KeyTaken => null,
            _ => throw new HeraldException(ErrorKind.Conflict,
                $"the merchant has {delivery.EndpointsPerMerchant} endpoints already, the most it may have: delete one it no longer uses (endpoints its checkout preferences made are not counted)"),
        };
    }

    public static Task<Endpoint> UpdateAsync(IHeraldStore store, string merchantId, string id, UpdateEndpointRequest request,
        TimeProvider time, DeliveryOptions delivery, CancellationToken cancellationToken) =>
        ChangeAsync(store, merchantId, id, current =>
        {
            var now = time.GetUtcNow();
            var url = request.Url is null ? current.Url : Validation.EndpointUrl(request.Url, delivery);
            // Credentials go where they went: moved to another host (or scheme, or port), an
            // endpoint takes its credential headers only as given again, never from what it had.
            var sameOrigin = Uri.TryCreate(url, UriKind.Absolute, out var to) && Uri.TryCreate(current.Url, UriKind.Absolute, out var from)
                && Uri.Compare(to, from, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;
            if (!sameOrigin && (HiddenHeaders.AnyCredential(current.Headers) || current.HeadersUnreadable)
                && (request.Headers is null || request.Headers.Any(h => HiddenHeaders.IsPlaceholder(h.Key, h.Value))))
            {
                throw new HeraldException(ErrorKind.BadRequest,
                    "url moves the endpoint to another host; headers: give them again, their credentials' values included (they are not carried to a new host)");
            }
            return current with
            {
                Url = url,
                Description = request.Description is null ? current.Description : Validation.OptionalText(request.Description, "description"),
                // Left out: unchanged; empty: the filter cleared, every event type sent.
                EventTypes = request.EventTypes switch
                {
                    null => current.EventTypes,
                    { Count: 0 } => null,
                    var types => EndpointsApi.EventTypeFilter(types, current.Format, current.EventTypes),
                },
                Success = request.Success is null ? current.Success : EndpointsApi.ParseSuccess(request.Success),
                Retry = request.Retry is null ? current.Retry : EndpointsApi.ParseRetry(request.Retry),
                TimeoutSeconds = request.TimeoutSeconds is null ? current.TimeoutSeconds : EndpointsApi.Timeout(request.TimeoutSeconds),
                Ordered = request.Ordered ?? current.Ordered,
                MaxConcurrency = request.MaxConcurrency is null ? current.MaxConcurrency : EndpointsApi.Limit(request.MaxConcurrency, "max_concurrency", EndpointsApi.MaxConcurrencyCap),
                RateLimit = request.RateLimit is null ? current.RateLimit : EndpointsApi.Limit(request.RateLimit, "rate_limit", EndpointsApi.RateLimitCap),
                // Left out: unchanged; given: the whole set replaced ({} clears it).
                Headers = request.Headers is null ? current.Headers : Validation.EndpointHeaders(request.Headers, sameOrigin ? current.Headers : null),
                HeadersUnreadable = current.HeadersUnreadable && request.Headers is null,
                Enabled = request.Enabled ?? current.Enabled,
                DisabledReason = request.Enabled switch { false => "disabled by the merchant", true => null, null => current.DisabledReason },
                DisabledAt = request.Enabled switch { false => now, true => null, null => current.DisabledAt },
                UpdatedAt = now,
            };
        }, cancellationToken);

    /// <summary>Pauses (nothing is lost: notifications wait) or resumes an endpoint.</summary>
    public static Task<Endpoint> SetPausedAsync(IHeraldStore store, string merchantId, string id, bool paused, TimeProvider time, CancellationToken cancellationToken) =>
        ChangeAsync(store, merchantId, id, current =>
        {
            var now = time.GetUtcNow();
            return current with
            {
                Enabled = !paused,
                DisabledReason = paused ? "paused by the merchant" : null,
                DisabledAt = paused ? now : null,
                UpdatedAt = now,
            };
        }, cancellationToken);

    /// <summary>How many times a change is made again on the endpoint as it is now, when another write came between its read and its write.</summary>
    private const int ChangeAttempts = 5;

    /// <summary>
    /// Reads the endpoint, changes it and writes it, unless another write (a pause, Herald disabling
    /// it) came in between: then the change is made again on what that write left, so that a
    /// change of the description, say, never undoes a pause it did not mention.
    /// </summary>
    private static async Task<Endpoint> ChangeAsync(IHeraldStore store, string merchantId, string id, Func<Endpoint, Endpoint> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < ChangeAttempts; attempt++)
        {
            var current = await EndpointsApi.LoadAsync(store, merchantId, id, cancellationToken);
            var updated = change(current);
            // The write is taken only where the endpoint is still as read, told by its updated_at to
            // the millisecond: one made in the millisecond of the write before it must move that on
            // all the same, or a change read alongside it would be taken too, and undo it.
            if (updated.UpdatedAt.ToUnixTimeMilliseconds() <= current.UpdatedAt.ToUnixTimeMilliseconds())
            {
                updated = updated with { UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(current.UpdatedAt.ToUnixTimeMilliseconds() + 1) };
            }
            if (await store.UpdateEndpointAsync(updated, current.UpdatedAt, cancellationToken))
            {
                // Enabled again, its count of failing days starts afresh, as the store wrote it.
                return updated.Enabled && !current.Enabled ? updated with { FailingSince = null } : updated;
            }
        }
        throw new HeraldException(ErrorKind.Conflict, $"endpoint {id} is being changed by another request; try again");
    }

    /// <summary>
    /// A new signing secret, returned once; the previous ones keep signing for the grace period. A
    /// rotation that would make too many secrets sign is refused, saying so in the API's words, or
    /// in <paramref name="tooMany"/>'s (given how many sign, and when there will be room).
    /// </summary>
    public static async Task<RotatedSecretResponse> RotateSecretAsync(IHeraldStore store, string merchantId, string id, int? graceSeconds,
        TimeProvider time, CancellationToken cancellationToken, Func<int, DateTimeOffset?, string>? tooMany = null)
    {
        var grace = graceSeconds ?? EndpointsApi.DefaultGraceSeconds;
        if (grace is < 0 or > EndpointsApi.MaxGraceSeconds)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"grace_seconds must be between 0 and {EndpointsApi.MaxGraceSeconds} (7 days)");
        }
        var now = time.GetUtcNow();
        var until = now + TimeSpan.FromSeconds(grace);
        var secret = WebhookSignature.NewSecret();
        var rotation = await store.RotateSecretAsync(merchantId, id, secret, now, until, EndpointsApi.MaxSigningSecrets, cancellationToken);
        return rotation.Outcome switch
        {
            SecretRotationOutcome.Rotated => new RotatedSecretResponse(id, secret, EndpointResponse.Time(until)),
            SecretRotationOutcome.NotFound => throw HeraldException.NotFound("endpoint", id),
            _ when tooMany is not null => throw new HeraldException(ErrorKind.Conflict, tooMany(rotation.Signing, rotation.FitsAt)),
            _ => throw new HeraldException(ErrorKind.Conflict,
                $"endpoint {id} has {rotation.Signing} secrets signing and at most {EndpointsApi.MaxSigningSecrets} sign at once "
                + "(each adds a signature to every request), so nothing changed: rotate with no grace (grace_seconds 0), which ends "
                + $"every older secret at once, or wait until {EndpointResponse.Time(rotation.FitsAt)}, when enough of their graces have ended"),
        };
    }
}
