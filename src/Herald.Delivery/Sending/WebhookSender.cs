using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Herald.Delivery.Egress;
using Herald.Endpoints;
using Herald.Signing;
using Herald.Storage.Model;
using Microsoft.Extensions.Options;

namespace Herald.Delivery.Sending;

/// <summary>
/// POSTs one notification: signs it afresh for this attempt with every active secret of its
/// endpoint, applies the endpoint's timeout and success rule, and keeps the start of the answer.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    /// <summary>The attempt number, 1 for the first try.</summary>
    public const string AttemptHeader = "webhook-attempt";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };
    // Added as text: the typed UserAgent collection is an object of its own on every request.
    private const string UserAgent = "Herald/1.0";

    // The handler is called directly: HttpClient's own layer (its timeout, which is infinite here,
    // and a token source of its own linked to the attempt's on every request) adds nothing an
    // attempt uses. The handler answers once the response's headers are in, its body a stream.
    private readonly HttpMessageInvoker _client;

    // A receiver answering in HTTP/1.0 without keep-alive closes the connection after each answer,
    // but .NET keeps such a connection for the next request all the same: that request went out on a
    // closed connection and failed with no answer ("the response ended prematurely"), never reaching
    // the receiver. Once a receiver has answered so, its requests go through a handler that uses each
    // connection once; and a request whose answer ended before it began (those sent before the first
    // answer came, a burst after a start or a resume) is sent once more, on a new connection.
    private readonly HttpMessageInvoker _oneShot;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _closesAfterEachAnswer = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time;
    private readonly int _excerptBytes;
    private readonly bool _development;

    public WebhookSender(IOptions<DeliveryOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        _time = time;
        _excerptBytes = o.ResponseExcerptBytes;
        _development = o.Development;
        var policy = new EgressPolicy(allowLoopback: o.Development, o.AllowedNetworks);
        _client = new HttpMessageInvoker(GuardedHttpHandler.Create(policy, o.HostResolver), disposeHandler: true);
        _oneShot = new HttpMessageInvoker(GuardedHttpHandler.Create(policy, o.HostResolver, reuse: false), disposeHandler: true);
    }

    public async Task<AttemptResult> SendAsync(ClaimedNotification notification, int attemptNumber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var startedAt = _time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var body = Encoding.UTF8.GetBytes(notification.Payload);
        var timestamp = startedAt.ToUnixTimeSeconds();

        var uri = UriOf(notification.Url);
        if (!EgressPolicy.SchemeAllowed(uri, _development))
        {
            return Failed(startedAt, stopwatch, $"refused to send over plain http: the endpoint's url must use https ({EgressPolicy.PlainHttpOnlyInDevelopment})");
        }
        if (notification.Secrets.Count == 0)
        {
            return Failed(startedAt, stopwatch, UnreadableSecret);
        }
        var client = !_closesAfterEachAnswer.IsEmpty && _closesAfterEachAnswer.ContainsKey(uri.Authority) ? _oneShot : _client;
        var signature = WebhookSignature.SignatureHeader(notification.Secrets, notification.EventId, timestamp, body);
        HttpRequestMessage NewRequest()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = Json;
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderId, notification.EventId);
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderTimestamp, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderSignature, signature);
            request.Headers.TryAddWithoutValidation(AttemptHeader, attemptNumber.ToString(CultureInfo.InvariantCulture));
            if (notification.Headers is { } own)
            {
                // The endpoint's own (checked when it was saved: none of the above, nor one of HTTP's framing).
                foreach (var (name, value) in own)
                {
                    if (!request.Headers.TryAddWithoutValidation(name, value))
                    {
                        request.Content.Headers.TryAddWithoutValidation(name, value);
                    }
                }
            }
            return request;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(notification.TimeoutSeconds));
        using var request = NewRequest();
        HttpRequestMessage? again = null;
        try
        {
            HttpResponseMessage sent;
            try
            {
                sent = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (client == _client && NoAnswerOnAClosedConnection(e))
            {
                // No answer at all on a kept connection: most likely one the receiver had closed
                // after its last answer (see _oneShot). Once more, on a connection of its own.
                client = _oneShot;
                again = NewRequest();
                sent = await client.SendAsync(again, timeout.Token).ConfigureAwait(false);
            }
            using var response = sent;
            if (response.Version == HttpVersion.Version10 && !response.Headers.Connection.Contains("keep-alive", StringComparer.OrdinalIgnoreCase))
            {
                if (_closesAfterEachAnswer.Count < MaxCachedUris)
                {
                    _closesAfterEachAnswer.TryAdd(uri.Authority, 0);
                }
            }
            else if (ReferenceEquals(client, _oneShot))
            {
                // It keeps connections open again (upgraded, or another of its paths answered): its
                // requests share them again, rather than a new connection each for the node's life.
                _closesAfterEachAnswer.TryRemove(uri.Authority, out _);
            }
            var status = (int)response.StatusCode;
            // The status decides the attempt once it is in: a body cut off, or still coming when the
            // time is up, leaves the excerpt short, never the attempt unrecorded or failed.
            var excerpt = await ReadExcerptAsync(response, notification.Headers, timeout.Token, cancellationToken).ConfigureAwait(false);
            var succeeded = notification.Success.IsSuccess(status);
            return new AttemptResult(startedAt, Elapsed(stopwatch), status, succeeded, succeeded ? null : Explain(status, notification.Success),
                excerpt, RetryAfter(response, startedAt));
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The handler's own connect timeout ends the attempt as the attempt's time would: told
            // apart, a receiver that never took the connection is not said to have been slow to answer.
            return Failed(startedAt, stopwatch, !timeout.IsCancellationRequested && e.InnerException is TimeoutException
                ? $"could not connect: the connection (TCP and TLS) was not made within {GuardedHttpHandler.ConnectTimeout.TotalSeconds:0} s"
                : notification.TimeoutCutFrom is { } own
                    ? $"no answer within {notification.TimeoutSeconds} s (the endpoint's {own} s, cut to end inside the node's lease: serve --lease-seconds)"
                    : $"no answer within {notification.TimeoutSeconds} s");
        }
        catch (HttpRequestException e)
        {
            return Failed(startedAt, stopwatch, Describe(e));
        }
        catch (IOException e)
        {
            // The connection broke in a way the handler did not wrap: a failed attempt all the same.
            return Failed(startedAt, stopwatch, e.Message);
        }
        finally
        {
            again?.Dispose();
        }
    }

    // Endpoint URLs parsed once each rather than on every attempt; a node with more endpoints than
    // this starts the cache over.
    private const int MaxCachedUris = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);

    private Uri UriOf(string url)
    {
        if (_uris.TryGetValue(url, out var uri))
        {
            return uri;
        }
        if (_uris.Count >= MaxCachedUris)
        {
            _uris.Clear();
        }
        uri = new Uri(url, UriKind.RelativeOrAbsolute);
        _uris[url] = uri;
        return uri;
    }

    /// <summary>
    /// Whether a request failed before any answer the way one sent on a connection the receiver had
    /// already closed does: the answer ended before it began, or the connection was reset.
    /// </summary>
    private static bool NoAnswerOnAClosedConnection(HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ResponseEnded
        || e.InnerException is IOException { InnerException: System.Net.Sockets.SocketException
        {
            SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset or System.Net.Sockets.SocketError.ConnectionAborted or System.Net.Sockets.SocketError.Shutdown,
        } };

    /// <summary>Why an endpoint with no secret this node can read is sent nothing (an unsigned request would pass for Herald's).</summary>
    public const string UnreadableSecret =
        "nothing was sent: the endpoint's signing secret, or its headers, cannot be read on this node (the key that encrypted them is not in its key ring: was the data folder restored without its keys/ folder?); rotate its secret, and set its headers again, to send with new ones";

    private static AttemptResult Failed(DateTimeOffset startedAt, Stopwatch stopwatch, string error) =>
        new(startedAt, Elapsed(stopwatch), null, false, Storable(error), null);

    /// <summary>
    /// <paramref name="text"/> with the NUL character read as U+FFFD, as a byte that is not UTF-8 is.
    /// What the receiver sent is kept with the attempt (its answer, or .NET's words on an answer
    /// that is not HTTP, which repeat it), and PostgreSQL's text cannot hold NUL: the attempt's
    /// transaction, and every other outcome and change written in it, would fail.
    /// </summary>
    private static string Storable(string text) => text.Contains('\0', StringComparison.Ordinal) ? text.Replace('\0', '\uFFFD') : text;

    private static int Elapsed(Stopwatch stopwatch) => (int)Math.Min(int.MaxValue, stopwatch.ElapsedMilliseconds);

    private static string Explain(int status, SuccessRule rule) => status switch
    {
        >= 300 and <= 399 => $"HTTP {status}: redirects are not followed",
        >= 200 and <= 299 when rule == SuccessRule.Exactly200 => $"HTTP {status}: this endpoint counts only 200 as received",
        _ => $"HTTP {status}",
    };

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is EgressRefusedException refused)
            {
                return refused.Message;
            }
        }
        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "the host name does not resolve",
            HttpRequestError.ConnectionError => "could not connect: " + (e.InnerException?.Message ?? e.Message),
            HttpRequestError.SecureConnectionError => "TLS handshake failed: " + (e.InnerException?.Message ?? e.Message),
            _ => e.InnerException?.Message ?? e.Message,
        };
    }

    /// <summary>
    /// The first bytes of the answer's body, as many as came before it ended, broke off or the
    /// attempt's time (<paramref name="timeoutToken"/>) ran out. Only <paramref name="cancellationToken"/>
    /// (the node stopping) ends it with an exception.
    /// </summary>
    private async Task<string?> ReadExcerptAsync(HttpResponseMessage response, IReadOnlyDictionary<string, string>? headers,
        CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        if (_excerptBytes == 0)
        {
            return null;
        }
        // Kept and shown, so without the endpoint's credentials should the receiver repeat them:
        // a little more is read, that one the kept part's end would cut is still found whole.
        var credentials = HiddenHeaders.AnyCredential(headers) ? headers : null;
        var limit = _excerptBytes + (credentials is null ? 0 : HiddenHeaders.RedactionMargin);
        // Most answers are empty or a few bytes: the buffer is borrowed, not made per attempt.
        var buffer = ArrayPool<byte>.Shared.Rent(limit);
        var read = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(timeoutToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int got;
                while (read < limit && (got = await stream.ReadAsync(buffer.AsMemory(read, limit - read), timeoutToken).ConfigureAwait(false)) > 0)
                {
                    read += got;
                }
            }
            return Excerpt(buffer, read, credentials);
        }
        catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Cut off or out of time: what came is the excerpt.
            return Excerpt(buffer, read, credentials);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// What is kept of an answer: as it came or, for an endpoint with <paramref name="credentials"/>
    /// (its answer read past the excerpt's end), with them hidden, then cut to the excerpt's bytes.
    /// </summary>
    private string? Excerpt(byte[] buffer, int read, IReadOnlyDictionary<string, string>? credentials)
    {
        if (read == 0)
        {
            return null;
        }
        var text = Storable(Encoding.UTF8.GetString(buffer, 0, read));
        if (credentials is null)
        {
            return text;
        }
        var hidden = Encoding.UTF8.GetBytes(HiddenHeaders.Redact(text, credentials)!);
        return Encoding.UTF8.GetString(hidden, 0, Math.Min(hidden.Length, _excerptBytes));
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        if (header?.Date is { } date)
        {
            return date - now;
        }
        // Seconds too many for .NET to read (past about 68 years): asked to wait as long as can be,
        // which the schedule's bound then holds to, rather than read as not asked at all.
        return response.Headers.NonValidated.TryGetValues("Retry-After", out var given) && given.Count == 1
            && given.ToString().Trim() is { Length: > 0 } seconds && seconds.All(char.IsAsciiDigit)
            ? TimeSpan.MaxValue
            : null;
    }

    public void Dispose()
    {
        _client.Dispose();
        _oneShot.Dispose();
    }
}
