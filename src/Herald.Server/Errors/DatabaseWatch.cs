using Herald.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Errors;

/// <summary>
/// On PostgreSQL, a server that stops answering without closing its connections (hung, cut off by
/// a partition, in the middle of a failover) holds every request that reads or writes until it
/// answers again: Npgsql's command timeout and a cancelled call both send the server a cancel
/// request and wait for it to close that connection, which a stopped server never does. So a request
/// still under way after half of <see cref="AnswerWithin"/> has the database asked whether it answers
/// at all (as <c>/readyz</c> asks it, within <see cref="ReadinessProbe.Limit"/>); when it does not,
/// the request is answered 503 there and then, and its connection closed after the answer. Its work is
/// not called off (calling off would wait for the server too): it ends when the server answers again
/// (or its connection is found broken), and what it then writes is dropped. A database that answers, slowly or
/// not, leaves a request alone however long it takes. SQLite, in the node's own process, has no server
/// to stop answering: its nodes are not watched, so a heavy batch on a slow disk is waited for as before.
/// </summary>
internal sealed partial class DatabaseWatch(RequestDelegate next, ReadinessProbe probe, ILogger<DatabaseWatch> logger, TimeProvider time)
{
    /// <summary>
    /// How long a request waits at most, on a node whose database stopped answering (from that moment,
    /// or from the request's arrival if later), for its 503: the request is watched every half of it,
    /// the database then given 2 s to answer the probe. Long enough that a database merely slow under
    /// load is not taken for gone (it answers the probe); short enough to answer before a caller's own
    /// timeout (often 10–30 s) and a load balancer's.
    /// </summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Patience = AnswerWithin / 2;

    /// <summary>The <c>Retry-After</c> of the 503, as the other answers for the database's trouble say it.</summary>
    private const string RetryAfter = "5";

    // One line a minute for an outage, as for the database's other troubles (ErrorHandlingMiddleware).
    private readonly Herald.Errors.QuietLog<bool> _log = new(ErrorHandlingMiddleware.DatabaseTroubleQuiet, time);

    public async Task InvokeAsync(HttpContext context)
    {
        var work = next(context);
        if (work.IsCompleted)
        {
            await work;
            return;
        }
        using var watching = new CancellationTokenSource();
        try
        {
            while (await Task.WhenAny(work, Task.Delay(Patience, watching.Token)) != work)
            {
                // Not the request's own token: the middleware must not return while its work runs on.
                if (!await probe.AnswersAsync(CancellationToken.None) && !work.IsCompleted && !context.Response.HasStarted)
                {
                    try
                    {
                        await AnswerSilenceAsync(context);
                    }
                    catch (Exception)
                    {
                        // The caller is gone: there is no one to answer, and the work is waited for all the same.
                    }
                    await Abandoned(work);
                    return;
                }
            }
        }
        finally
        {
            await watching.CancelAsync();
        }
        await work;
    }

    /// <summary>The 503, sent whole, its connection closed after it (the request's work still holds the request until it ends).</summary>
    private async Task AnswerSilenceAsync(HttpContext context)
    {
        if (_log.ShouldWrite(true, out var held))
        {
            LogSilence(logger, context.Request.Method, Portal.PortalLinks.Loggable(context.Request.Path), Patience.TotalSeconds, ReadinessProbe.Limit.TotalSeconds, held);
        }
        await ErrorHandlingMiddleware.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, [Silence(context)], response =>
        {
            response.Headers.RetryAfter = RetryAfter;
            if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            {
                // The caller asks again on another connection: this one is held until the work ends.
                response.Headers.Connection = "close";
            }
        });
        await context.Response.CompleteAsync();
    }

    /// <summary>Waits for the work of a request answered already: whatever it ends with, it is no longer the caller's answer.</summary>
    private static async Task Abandoned(Task work)
    {
        try
        {
            await work;
        }
        catch (Exception)
        {
            // Answered already (the work's own answer, or its failure, comes after the 503).
        }
    }

    /// <summary>What a request whose database did not answer is told.</summary>
    internal static string Silence(HttpContext context) => "Herald's database did not answer in time" + WhatBecameOf(context);

    /// <summary>
    /// What became of a request the database failed under, after a colon. A read changed nothing; a
    /// change may have reached the database before it stopped answering, and be recorded by it yet,
    /// so it is never said not to be: on a route that takes an <c>Idempotency-Key</c>, asking again
    /// with the same key records it once.
    /// </summary>
    internal static string WhatBecameOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            return ": nothing was done; retry later";
        }
        if (context.GetEndpoint()?.Metadata.GetMetadata<IdempotencyKeyHeader>() is null)
        {
            return ": what was asked may still be done; check before asking again";
        }
        return request.Headers.ContainsKey(IdempotencyKeyHeader.Name)
            ? $": the change may still be recorded; a retry with the same {IdempotencyKeyHeader.Name} is safe (it is recorded once)"
            : $": the change may still be recorded; check before asking again (a retry with an {IdempotencyKeyHeader.Name} is recorded once)";
    }

    [LoggerMessage(3002, LogLevel.Warning, "{Method} {Path} answered 503: the database did not answer it for {Patience} s, nor a probe for {Probe} s (a server hung or cut off from the node) (said once a minute: {Held} more answered so since)")]
    private static partial void LogSilence(ILogger logger, string method, string path, double patience, double probe, int held);
}
