using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Ids;
using Herald.Receiver.Events;
using Herald.Receiver.Verification;
using Herald.Signing;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Commands;

/// <summary>
/// <c>herald listen</c>: a local receiver that prints each notification as it arrives, checks its
/// signature when given the secret, marks duplicates, and answers what the developer chose.
/// </summary>
internal static class ListenCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "The port to listen on (127.0.0.1).", DefaultValueFactory = _ => 4000 };
        var secret = new Option<string?>("--secret") { Description = "The endpoint's whsec_ secret: requests it did not sign get 401, printed with the reason." };
        var answer = new Option<int>("--answer") { Description = "The status to answer with, e.g. 500 to watch Herald retry.", DefaultValueFactory = _ => 200 };
        port.Check(v => v is < 1 or > 65_535 ? "--port must be between 1 and 65535." : null);
        // A 1xx is an interim answer, which a handler cannot give as its last.
        answer.Check(v => v is < 200 or > 599 ? "--answer must be an HTTP status between 200 and 599." : null);
        var command = new Command("listen", "Receive notifications locally and print them.") { port, secret, answer };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var status = parse.GetValue(answer);
            // A placeholder copied from the docs would refuse every request; better said once, now.
            if (parse.GetValue(secret) is { } given && !WebhookSignature.IsUsableSecret(given))
            {
                await Console.Error.WriteLineAsync("herald: --secret is not a whsec_ secret (whsec_ and base64, as the endpoint's creation showed it; a placeholder or a short key is not one)");
                return 1;
            }
            // The content root is the program's own folder, not the working directory: the host watches its
            // content root, subfolders and all, for changes to appsettings.json, and a working directory can
            // be large or busy (a database being written under it costs a file-system event per write).
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.WebHost.UseUrls($"http://127.0.0.1:{parse.GetValue(port)}");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var printer = new Printer(parse.GetValue(secret), status);
            app.MapPost("/{**path}", (Delegate)((HttpContext http) => printer.ReceiveAsync(http)));
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"herald: cannot listen on port {parse.GetValue(port)}: {e.Message}");
                return 1;
            }
            Console.WriteLine($"Listening on http://127.0.0.1:{parse.GetValue(port)} — answering {status}" +
                (parse.GetValue(secret) is null ? "; signatures not checked (give --secret to check them)" : "; checking signatures"));
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    private sealed class Printer(string? secret, int answer)
    {
        private static readonly JsonSerializerOptions Pretty = new()
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };

        // Each webhook-id seen: how many times, and whether listen accepted it (answered 2xx) before.
        private readonly Dictionary<string, (int Times, bool Accepted)> _seen = new(StringComparer.Ordinal);
        private readonly Lock _console = new();
        private readonly bool _colour = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

        public async Task<IResult> ReceiveAsync(HttpContext http)
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            var body = buffer.ToArray();
            var headers = http.Request.Headers;
            var id = headers[WebhookSignature.HeaderId].ToString();
            var attempt = headers["webhook-attempt"].ToString();
            var now = DateTimeOffset.UtcNow;

            var verdict = "unchecked";
            if (secret is not null)
            {
                // The receiver kit's own check, so listen and a merchant's app refuse alike and say why alike.
                var check = SignatureCheck.Verify([secret], id, headers[WebhookSignature.HeaderTimestamp].ToString(),
                    headers[WebhookSignature.HeaderSignature].ToString(), body, now, TimeSpan.FromMinutes(5));
                if (!check.IsValid)
                {
                    Write($"{now:HH:mm:ss} ", Paint("✗ " + check.Reason, 31), $" {http.Request.Path} webhook-id={(id.Length == 0 ? "-" : id)} → 401\n");
                    return Results.Text("invalid signature or timestamp: " + check.Reason, statusCode: StatusCodes.Status401Unauthorized);
                }
                verdict = "verified";
            }

            HeraldEvent evt;
            string? unreadable = null;
            try
            {
                evt = HeraldEventParser.Parse(id, now, null, body);
            }
            catch (JsonException e)
            {
                // A payment format's body with a field of another type (Herald sends none such): printed
                // as it came, with what the kit could not read, as listen shows whatever arrives.
                evt = new OtherEvent(id, now, null, [], Encoding.UTF8.GetString(body));
                unreadable = $"(not a Herald payload: {e.Message})";
            }
            // Accepted as Herald would count it: a transaction's endpoint takes only 200 (seed 003),
            // the other formats any 2xx (an endpoint's own success rule is not listen's to know).
            var accepted = evt is TransactionEvent ? answer == StatusCodes.Status200OK : answer is >= 200 and < 300;
            int times;
            bool acceptedBefore;
            lock (_seen)
            {
                var seen = _seen.GetValueOrDefault(id);
                (times, acceptedBefore) = (seen.Times + 1, seen.Accepted);
                _seen[id] = (times, acceptedBefore || accepted);
            }
            var what = unreadable ?? evt switch
            {
                PaymentOrderEvent o => o.EventType,
                TransactionEvent t => "TRANSACTION." + t.Status,
                PaymentIntentEvent i => "PAYMENT_INTENT." + i.State,
                OtherEvent { IsTest: true } => OtherEvent.TestEventType + " (Herald's test notification)",
                // Herald's own events, sent to the operator's endpoints: {id, type: endpoint.disabled…, created_at, data}.
                OtherEvent test when test.Payload["type"] is JsonValue type && type.TryGetValue<string>(out var name) && name == OperatorEventTypes.EndpointTest
                    => name + " (Herald's test notification, to an operator webhook)",
                OtherEvent other when other.Payload["type"] is JsonValue type && type.TryGetValue<string>(out var name)
                    && name is OperatorEventTypes.EndpointDisabled or OperatorEventTypes.EndpointFailing or OperatorEventTypes.EndpointRecovered or OperatorEventTypes.NotificationDead
                    => name + " (Herald's operator event)",
                _ => "(not a Herald payload)",
            };
            // An event type's example is a payment event's; Herald's own test notifications are named above.
            if (id.StartsWith(HeraldId.TestEvent + "_", StringComparison.Ordinal) && evt is PaymentOrderEvent or TransactionEvent or PaymentIntentEvent)
            {
                what += " (an example an endpoint's test sent)";
            }
            var pretty = evt.Payload.Count > 0 ? evt.Payload.ToJsonString(Pretty) : Encoding.UTF8.GetString(body);
            Write($"{now:HH:mm:ss} ", Paint(what, 36), $" webhook-id={id} attempt={(attempt.Length == 0 ? "?" : attempt)} ",
                Paint(verdict, verdict == "verified" ? 32 : 33),
                // Seen before: a duplicate once it was accepted (what a receiver must deduplicate); a retry while it was not.
                times > 1 ? " " + Paint(acceptedBefore
                    ? $"DUPLICATE (seen {times.ToString(CultureInfo.InvariantCulture)} times)"
                    : $"RETRY (seen {times.ToString(CultureInfo.InvariantCulture)} times, not accepted before)", 35) : "",
                $" → {answer.ToString(CultureInfo.InvariantCulture)}\n", pretty, "\n");
            // 204, 205 and 304 carry no body: written one, Kestrel answered 500 instead.
            return answer is StatusCodes.Status204NoContent or StatusCodes.Status205ResetContent or StatusCodes.Status304NotModified
                ? Results.StatusCode(answer)
                : Results.Text($"herald listen answered {answer.ToString(CultureInfo.InvariantCulture)}", statusCode: answer);
        }

        private string Paint(string text, int colour) => _colour ? $"\u001b[{colour.ToString(CultureInfo.InvariantCulture)}m{text}\u001b[0m" : text;

        private void Write(params string[] parts)
        {
            lock (_console)
            {
                foreach (var part in parts)
                {
                    Console.Write(part);
                }
                Console.Out.Flush();
            }
        }
    }
}
