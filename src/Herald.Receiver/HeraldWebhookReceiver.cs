using System.Globalization;
using System.Text.Json;
using Herald.Receiver.Events;
using Herald.Receiver.Idempotency;
using Herald.Receiver.Verification;
using Herald.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver;

/// <summary>One route's receiver: checks, claims and handles each notification that reaches it.</summary>
internal sealed class HeraldWebhookReceiver(HeraldWebhookOptions options, IIdempotencyStore store, string? scope, ILogger logger,
    Func<HeraldEvent, IServiceProvider, CancellationToken, Task> handler)
{
    /// <summary>How much of an unverified <c>webhook-id</c> a refusal logs (Herald's ids are about 30 characters).</summary>
    internal const int LoggedIdLength = 64;

    private const string UnreadableAnswer = "the body could not be read into the kit's typed event, so the handler did not run: ";

    /// <summary>
    /// How the ids of what an endpoint's test sends begin (see <c>HeraldId.TestEvent</c>). The id is
    /// signed; the <c>webhook-test</c> header beside it is not, so it decides nothing here.
    /// </summary>
    private const string TestIdPrefix = "evt_test_";

    public async Task<IResult> ReceiveAsync(HttpContext http)
    {
        var cancellationToken = http.RequestAborted;
        var body = await ReadBodyAsync(http.Request, options.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            ReceiverLog.TooLarge(logger, http.Request.Path, options.MaxBodyBytes);
            return Results.Text("body too large", statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        var headers = http.Request.Headers;
        var id = headers[WebhookSignature.HeaderId].ToString();
        var timestamp = headers[WebhookSignature.HeaderTimestamp].ToString();
        var now = options.TimeProvider.GetUtcNow();
        var check = SignatureCheck.Verify(options.CurrentSecrets(), id, timestamp, headers[WebhookSignature.HeaderSignature].ToString(), body, now, options.Tolerance);
        if (!check.IsValid)
        {
            // Said to the sender too: Herald shows it in the attempt and in an endpoint Test's result,
            // where the merchant looks first. It names a reason only, never a secret.
            // The id is the unverified sender's: kept to the length of a real one in the log.
            var loggedId = id.Length <= LoggedIdLength ? id : id[..LoggedIdLength] + "…";
            if (check.Failure == SignatureFailure.NoUsableSecret)
            {
                ReceiverLog.NoUsableSecret(logger, http.Request.Path, check.Reason, loggedId);
            }
            else
            {
                ReceiverLog.Refused(logger, http.Request.Path, check.Reason, loggedId);
            }
            return Results.Text("invalid signature or timestamp: " + check.Reason, statusCode: StatusCodes.Status401Unauthorized);
        }
        int? attempt = int.TryParse(headers["webhook-attempt"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        HeraldEvent evt;
        try
        {
            evt = HeraldEventParser.Parse(id, DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, CultureInfo.InvariantCulture)), attempt, body);
        }
        catch (JsonException e)
        {
            // Signed, so not a forgery, but not what the kit's models read: answered as a failure (and
            // retried) rather than handed over as something else, which a handler might acknowledge and drop.
            ReceiverLog.Unreadable(logger, e, id);
            return Results.Text(UnreadableAnswer + e.Message, statusCode: StatusCodes.Status500InternalServerError);
        }
        if (id.StartsWith(TestIdPrefix, StringComparison.Ordinal) && evt is not OtherEvent { IsTest: true })
        {
            // An event type's example an endpoint's test sent: about an entity that does not exist,
            // so verified and acknowledged, never handed to the handler (nor its order fetched).
            ReceiverLog.Example(logger, id, evt.Payload["event_type"]?.ToString() ?? evt.Payload["status"]?.ToString() ?? evt.Payload["state"]?.ToString() ?? "");
            return Results.Text("an example an endpoint's test sent (webhook-id evt_test_…): verified, not handled", statusCode: StatusCodes.Status200OK);
        }

        var key = IdempotencyScopes.Key(scope, id);
        var claimedUntil = now + options.ClaimTimeout;
        ClaimResult claim;
        try
        {
            claim = await store.TryClaimAsync(key, now, claimedUntil, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Answered here, not left to the app's pipeline, whose answer in Development is a stack
            // trace that Herald would keep in the attempt.
            ReceiverLog.ClaimFailed(logger, e, id);
            return Results.Text("the idempotency store failed, so the handler did not run; Herald will retry", statusCode: StatusCodes.Status500InternalServerError);
        }
        switch (claim)
        {
            case ClaimResult.AlreadyHandled:
                return Results.Ok();
            case ClaimResult.InProgress:
                return Results.Text("this notification is being handled", statusCode: StatusCodes.Status409Conflict);
        }
        if (evt is PaymentOrderEvent thin && (options.Client ?? http.RequestServices.GetService<HeraldClient>()) is { } client)
        {
            var orderId = thin.OrderId;
            if (orderId.Length == 0)
            {
                return await GiveBackAsync(key, id, claimedUntil, "the notification names no payment order (entity_id) to fetch, so the handler did not run").ConfigureAwait(false);
            }
            PaymentOrderEvent fetched;
            try
            {
                fetched = thin with { Order = await client.GetPaymentOrderAsync(orderId, cancellationToken).ConfigureAwait(false) };
            }
            catch (Exception e)
            {
                ReceiverLog.FetchFailed(logger, e, id, orderId);
                var answered = e switch
                {
                    HttpRequestException { StatusCode: { } code } => $" (Herald answered {(int)code})",
                    JsonException => " (its answer is no JSON object the kit can read)",
                    _ => "",
                };
                return await GiveBackAsync(key, id, claimedUntil,
                    $"fetching payment order {orderId} from Herald failed{answered}, so the handler did not run; Herald will retry").ConfigureAwait(false);
            }
            try
            {
                // Read into its fields before the handler runs, as every other payload is.
                _ = fetched.PaymentOrder;
            }
            catch (JsonException e)
            {
                ReceiverLog.Unreadable(logger, e, id);
                return await GiveBackAsync(key, id, claimedUntil, UnreadableAnswer + e.Message).ConfigureAwait(false);
            }
            evt = fetched;
        }
        try
        {
            await handler(evt, http.RequestServices, cancellationToken).ConfigureAwait(false);
        }
        catch (HeraldRetryLaterException later)
        {
            var seconds = ((long)later.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            ReceiverLog.RetryLater(logger, id, seconds);
            http.Response.Headers.RetryAfter = seconds;
            return await GiveBackAsync(key, id, claimedUntil, $"the handler asked Herald to retry in {seconds} s", StatusCodes.Status503ServiceUnavailable)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // Herald stopped waiting (the endpoint's timeout) or the app is stopping: no fault of the
            // handler's, which stopped as asked, so not logged as its failure.
            ReceiverLog.HandlerAborted(logger, e, id);
            return await GiveBackAsync(key, id, claimedUntil, "the request was aborted before the handler finished; Herald will retry").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ReceiverLog.HandlerFailed(logger, e, id);
            return await GiveBackAsync(key, id, claimedUntil, "the handler failed; Herald will retry").ConfigureAwait(false);
        }
        await CompleteAsync(key, id, claimedUntil).ConfigureAwait(false);
        return Results.Ok();
    }

    /// <summary>
    /// Gives the claim back, so that Herald's retry handles the notification afresh, and answers
    /// <paramref name="status"/> (500 unless said) saying why. Should the store fail to give it back,
    /// the answer is the same: the claim then runs out after <see cref="HeraldWebhookOptions.ClaimTimeout"/>,
    /// and a retry is handled after that.
    /// </summary>
    private async Task<IResult> GiveBackAsync(string key, string id, DateTimeOffset claimedUntil, string why, int status = StatusCodes.Status500InternalServerError)
    {
        try
        {
            await store.ReleaseAsync(key, claimedUntil, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ReceiverLog.ReleaseFailed(logger, e, id, claimedUntil);
        }
        return Results.Text(why, statusCode: status);
    }

    /// <summary>How many times the store is asked to note a handled id before the answer goes out anyway.</summary>
    private const int CompleteAttempts = 3;

    /// <summary>
    /// Notes the id handled. The handler has done its work: should the store fail (busy, a failover),
    /// it is asked again, and failing still the answer is 200 all the same, since a 500 would make
    /// Herald send the notification again and, its claim run out, the handler run twice. The id then
    /// stays claimed until <see cref="HeraldWebhookOptions.ClaimTimeout"/>.
    /// </summary>
    private async Task CompleteAsync(string key, string id, DateTimeOffset claimedUntil)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.CompleteAsync(key, options.TimeProvider.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception) when (attempt < CompleteAttempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                ReceiverLog.CompleteFailed(logger, e, id, claimedUntil);
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
