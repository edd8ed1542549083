using System.Globalization;
using Herald.Receiver.Events;
using Herald.Receiver.Idempotency;
using Herald.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Receiver;

/// <summary>Maps an endpoint that receives Herald's notifications.</summary>
public static class HeraldWebhookEndpointExtensions
{
    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/></c>: reads the raw body, verifies <c>webhook-signature</c>
    /// against the secrets and the timestamp against the tolerance (401 otherwise, without calling the
    /// handler), claims the <c>webhook-id</c> so the handler runs once per notification, runs
    /// <paramref name="handler"/> and answers 200; a handler that throws gives the id back and answers 500,
    /// so Herald's retry runs it again.
    /// </summary>
    /// <param name="endpoints">The app's routes.</param>
    /// <param name="pattern">The route, e.g. <c>/webhooks</c>.</param>
    /// <param name="options">Secrets, tolerance, idempotency store, client.</param>
    /// <param name="handler">Called once per notification with its typed event.</param>
    public static RouteHandlerBuilder MapHeraldWebhooks(this IEndpointRouteBuilder endpoints, string pattern, HeraldWebhookOptions options,
        Func<HeraldEvent, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        var store = options.IdempotencyStore ?? new InMemoryIdempotencyStore();
        return endpoints.MapPost(pattern, (Delegate)((HttpContext http) => ReceiveAsync(http, options, store, handler)));
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, HeraldWebhookOptions options, IIdempotencyStore store, Func<HeraldEvent, CancellationToken, Task> handler)
    {
        var cancellationToken = http.RequestAborted;
        var body = await ReadBodyAsync(http.Request, options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Results.Text("body too large", statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        var headers = http.Request.Headers;
        var id = headers[WebhookSignature.HeaderId].ToString();
        var timestamp = headers[WebhookSignature.HeaderTimestamp].ToString();
        var signature = headers[WebhookSignature.HeaderSignature].ToString();
        var now = options.TimeProvider.GetUtcNow();
        if (id.Length == 0 || timestamp.Length == 0 || signature.Length == 0
            || !options.CurrentSecrets().Any(secret => WebhookSignature.Verify(secret, id, timestamp, signature, body, now, options.Tolerance)))
        {
            return Results.Text("invalid signature or timestamp", statusCode: StatusCodes.Status401Unauthorized);
        }
        int? attempt = int.TryParse(headers["webhook-attempt"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        var evt = HeraldEventParser.Parse(id, DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, CultureInfo.InvariantCulture)), attempt, body);

        var claimedUntil = now + options.ClaimTimeout;
        switch (await store.TryClaimAsync(id, now, claimedUntil, cancellationToken).ConfigureAwait(false))
        {
            case ClaimResult.AlreadyHandled:
                return Results.Ok();
            case ClaimResult.InProgress:
                return Results.Text("this notification is being handled", statusCode: StatusCodes.Status409Conflict);
        }
        try
        {
            if (evt is PaymentOrderEvent thin && options.Client is { } client)
            {
                evt = thin with { Order = await client.GetPaymentOrderAsync(thin.OrderId, cancellationToken).ConfigureAwait(false) };
            }
            await handler(evt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            await store.ReleaseAsync(id, claimedUntil, CancellationToken.None).ConfigureAwait(false);
            return Results.Text("the handler failed; Herald will retry", statusCode: StatusCodes.Status500InternalServerError);
        }
        await CompleteAsync(store, id, options.TimeProvider).ConfigureAwait(false);
        return Results.Ok();
    }

    /// <summary>How many times the store is asked to note a handled id before the answer goes out anyway.</summary>
    private const int CompleteAttempts = 3;

    /// <summary>
    /// Notes the id handled. The handler has done its work: should the store fail (busy, a failover),
    /// it is asked again, and failing still the answer is 200 all the same, since a 500 would make
    /// Herald send the notification again and, its claim run out, the handler run twice. The id then
    /// stays claimed until <see cref="HeraldWebhookOptions.ClaimTimeout"/>.
    /// </summary>
    private static async Task CompleteAsync(IIdempotencyStore store, string id, TimeProvider time)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.CompleteAsync(id, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception) when (attempt < CompleteAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    /// <summary>The raw bytes as sent: verifying a re-serialised body is the classic receiver bug.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
