using System.Text.Json;
using Herald.Errors;
using Herald.Server.Api;
using Herald.Server.Json;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Herald.Server.Errors;

/// <summary>
/// Turns every refusal and failure into the seed's error shape, including the bare 404 and 405
/// answers routing gives and the 413 Kestrel gives for an oversized body.
/// </summary>
internal sealed partial class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger, TimeProvider time, IHeraldStore store)
{
    /// <summary>A body that stopped arriving (408), as the answer and the OpenAPI document say it.</summary>
    public const string BodyTimedOut = "body did not arrive in time (it came too slowly, or was shorter than its Content-Length)";

    /// <summary>How long requests refused for the database's trouble stay out of the log after one was written.</summary>
    public static readonly TimeSpan DatabaseTroubleQuiet = TimeSpan.FromMinutes(1);

    // Each cause on its own: a disk filling up during an outage is named, not counted into it.
    private readonly QuietLog<DatabaseTrouble> _trouble = new(DatabaseTroubleQuiet, time);

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            RefuseNul(context.Request);
            await next(context);
        }
        catch (HeraldException e)
        {
            await WriteAsync(context, StatusOf(e.Kind), e.Messages, e.RetryAfter is { } after
                ? response => response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : null);
            return;
        }
        catch (BadHttpRequestException e)
        {
            var message = e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => "the request body is larger than the limit",
                StatusCodes.Status408RequestTimeout => "the request " + BodyTimedOut,
                _ => Unbound(e.Message) ?? e.Message,
            };
            await WriteAsync(context, e.StatusCode, [message]);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (store.TroubleOf(e) is { } trouble)
        {
            // Nothing the caller sent is wrong: it may ask again once the operator has seen to the
            // database (the log says what happened, once a minute). A database refusing (full, read
            // only, out of connections) did nothing; one that went away may have taken a change's
            // commit before it did, so a change is not said to be undone.
            NoteDatabaseTrouble(e, trouble, context.Request.Method, Portal.PortalLinks.Loggable(context.Request.Path));
            var outcome = trouble == DatabaseTrouble.Unreachable ? DatabaseWatch.WhatBecameOf(context) : ": nothing was done; retry later";
            // A file gone is said as the store's refusal to write says it: the operator's to restore.
            var message = trouble == DatabaseTrouble.FileGone ? DatabaseTroubleWords.FileGoneRefusal : $"Herald's database cannot take requests now ({trouble.Reason()}){outcome}";
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, [message],
                response => response.Headers.RetryAfter = "5");
            return;
        }
        catch (Exception e)
        {
            LogUnhandled(logger, e, context.Request.Method, Portal.PortalLinks.Loggable(context.Request.Path));
            await WriteAsync(context, 500, ["internal error"]);
            return;
        }

        if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null
            && (context.Response.StatusCode is 404 or 405 or 415 || (context.Response.StatusCode == 400 && Portal.PortalServiceCollectionExtensions.IsPortal(context.Request))))
        {
            var status = context.Response.StatusCode;
            var message = status switch
            {
                404 => "Not found",
                405 => $"{context.Request.Method} is not allowed here",
                // A portal form whose antiforgery token was refused: it belongs to another session (a
                // sign-in or sign-out since the page was opened) or its cookie is gone.
                400 => StalePortalPage,
                _ => HeraldJson.NotJson,
            };
            // Routing's 405 names the methods the path takes; the answer keeps that header, with
            // HEAD beside GET (answered wherever GET is, see HeadRequests).
            var allow = context.Response.Headers.Allow;
            if (allow.Count > 0)
            {
                var methods = allow.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
                if (methods.Contains(HttpMethods.Get, StringComparer.OrdinalIgnoreCase) && !methods.Contains(HttpMethods.Head, StringComparer.OrdinalIgnoreCase))
                {
                    methods.Insert(methods.FindIndex(m => string.Equals(m, HttpMethods.Get, StringComparison.OrdinalIgnoreCase)) + 1, HttpMethods.Head);
                    allow = string.Join(", ", methods);
                }
            }
            await WriteAsync(context, status, [message], response => response.Headers.Allow = allow);
        }
    }

    /// <summary>
    /// The framework's words for a query or route value that does not read as its parameter's type
    /// (<c>Failed to bind parameter "Nullable&lt;int&gt; limit" from "abc".</c>), said as Herald says
    /// it; null for any other message.
    /// </summary>
    internal static string? Unbound(string message)
    {
        if (BindFailure().Match(message) is not { Success: true } match)
        {
            return null;
        }
        var type = match.Groups["type"].Value;
        var expected = type switch
        {
            _ when type.Contains("int", StringComparison.OrdinalIgnoreCase) || type.Contains("long", StringComparison.OrdinalIgnoreCase) => "a whole number",
            _ when type.Contains("bool", StringComparison.OrdinalIgnoreCase) => "true or false",
            _ when type.Contains("DateTime", StringComparison.Ordinal) => "an ISO 8601 time such as 2026-01-31T12:00:00Z",
            _ => "a value of another form",
        };
        var given = match.Groups["value"].Value;
        var name = match.Groups["name"].Value;
        // A whole number too long for its parameter is a whole number still: say what is wrong with it.
        return expected == "a whole number" && Validation.IsWholeNumber(given)
            ? $"{name} is out of range: {HeraldException.Quote(given)}"
            : $"{name} must be {expected}, not {HeraldException.Quote(given)}";
    }

    [System.Text.RegularExpressions.GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[A-Za-z_][A-Za-z0-9_]*)" from "(?<value>.*)"\.$""", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    /// <summary>
    /// A query holding the NUL character (<c>%00</c>) is refused before any route sees it:
    /// PostgreSQL's text cannot hold it, so a filter or cursor with it would otherwise fail there as
    /// an internal error. (Kestrel refuses it in a path itself.)
    /// </summary>
    private static void RefuseNul(HttpRequest request)
    {
        if (request.QueryString.HasValue && Validation.HoldsNul(request.Query))
        {
            throw new HeraldException(ErrorKind.BadRequest, "the query may not contain the NUL character (%00)");
        }
    }

    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.BadRequest => 400,
        ErrorKind.Unauthorized => 401,
        ErrorKind.Forbidden => 403,
        ErrorKind.NotFound => 404,
        ErrorKind.Conflict => 409,
        ErrorKind.PayloadTooLarge => 413,
        ErrorKind.UnsupportedMediaType => 415,
        ErrorKind.Unprocessable => 422,
        ErrorKind.TooManyRequests => 429,
        ErrorKind.Unavailable => 503,
        _ => 500,
    };

    public static Task WriteAsync(HttpContext context, int status, IReadOnlyList<string> messages, Action<HttpResponse>? headers = null)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }
        // HSTS is written before the request is handled, so what the clearing removes is put back:
        // an error over HTTPS keeps a browser on HTTPS as every other answer does.
        var hsts = context.Response.Headers.StrictTransportSecurity;
        context.Response.Clear();
        if (!StringValues.IsNullOrEmpty(hsts))
        {
            context.Response.Headers.StrictTransportSecurity = hsts;
        }
        headers?.Invoke(context.Response);
        if (status == StatusCodes.Status401Unauthorized)
        {
            // How to authenticate, as a 401 must say (RFC 9110): an API key as a bearer token.
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        context.Response.StatusCode = status;
        if (IsPortalPage(context.Request))
        {
            return WritePortalPageAsync(context, status, messages);
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new ErrorBody(status, messages, ErrorBody.ReasonFor(status)), ErrorJson, context.RequestAborted);
    }

    /// <summary>What a portal form posted from a page of an earlier session is told.</summary>
    internal const string StalePortalPage = "This page's form has expired or is out of date (a sign-in or sign-out since it was opened, or the browser's cookies cleared). Reload the page, then try again.";

    /// <summary>A browser opening a portal page (not the portal's own script fetching): it is shown a page, not JSON.</summary>
    private static bool IsPortalPage(HttpRequest request) =>
        Portal.PortalServiceCollectionExtensions.IsPortal(request)
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase)
        && request.Headers["X-Requested-With"] != "fetch";

    private static Task WritePortalPageAsync(HttpContext context, int status, IReadOnlyList<string> messages)
    {
        var reason = System.Net.WebUtility.HtmlEncode(ErrorBody.ReasonFor(status));
        var lines = string.Concat(messages.Select(m => $"<p>{System.Net.WebUtility.HtmlEncode(m)}</p>"));
        // A form posted from an out-of-date page: the page again, read afresh (its address without the form's handler).
        var page = new Microsoft.AspNetCore.Http.Extensions.QueryBuilder(
            context.Request.Query.Where(q => !q.Key.Equals("handler", StringComparison.OrdinalIgnoreCase)));
        var again = status == 400 && HttpMethods.IsPost(context.Request.Method)
            ? $"""<p><a href="{System.Net.WebUtility.HtmlEncode(context.Request.PathBase + context.Request.Path + page.ToQueryString())}">Reload the page</a></p>"""
            : "";
        Herald.Server.Portal.PortalServiceCollectionExtensions.GuardHeaders(context.Response);
        context.Response.ContentType = "text/html; charset=utf-8";
        // No icon, as the portal's other pages say, so the browser does not ask /favicon.ico for one (a 404).
        return context.Response.WriteAsync(
            $"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{reason} · Herald</title><link rel="stylesheet" href="{Herald.Server.Portal.PortalAssets.Url("portal.css")}"><link rel="icon" href="data:,"></head>
            <body><main id="main"><h1>{reason}</h1><div class="card" role="alert">{lines}{again}<p><a href="/portal">Back to the portal</a></p></div></main></body>
            </html>
            """, context.RequestAborted);
    }

    /// <summary>
    /// Messages read as written (<c>unknown field 'x'</c>, not <c>\u0027x\u0027</c>): the answer is
    /// JSON with its content type, never HTML, so quotes and angle brackets need no escapes.
    /// </summary>
    private static readonly JsonSerializerOptions ErrorJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Logs a request refused because the database cannot take it: the first of a minute of each
    /// cause with what the driver said (one line: every request of an outage failed alike, and each logged its
    /// stack as an unhandled error, flooding the log), the others counted into the next.
    /// </summary>
    private void NoteDatabaseTrouble(Exception e, DatabaseTrouble trouble, string method, string path)
    {
        if (_trouble.ShouldWrite(trouble, out var held))
        {
            LogDatabaseTrouble(logger, method, path, trouble.Reason(), FailureWords.Said(e), held);
        }
    }

    [LoggerMessage(3001, LogLevel.Warning, "{Method} {Path} answered 503: the database cannot take requests ({Why}): {Said} (said once a minute: {Held} more answered so since)")]
    private static partial void LogDatabaseTrouble(ILogger logger, string method, string path, string why, string said, int held);

    [LoggerMessage(3000, LogLevel.Error, "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
