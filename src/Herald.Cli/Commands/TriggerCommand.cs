using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Entities;

namespace Herald.Cli.Commands;

/// <summary><c>herald trigger</c>: walks a new entity through a scenario's states via the API.</summary>
internal static class TriggerCommand
{
    private sealed record Scenario(string Collection, string[] Steps, string Description);

    private static readonly Dictionary<string, Scenario> Scenarios = new(StringComparer.Ordinal)
    {
        ["transaction-completed"] = new("transactions", ["PROCESSING", "COMPLETED"], "a transaction paid"),
        ["transaction-declined"] = new("transactions", ["PROCESSING", "DECINED"], "a transaction the PSP declined"),
        ["transaction-refunded"] = new("transactions", ["PROCESSING", "COMPLETED", "REFUNDED"], "a paid transaction refunded"),
        ["transaction-canceled"] = new("transactions", ["USER_CANCEL"], "a transaction the user canceled"),
        ["transaction-expired"] = new("transactions", ["EXPIRED"], "a transaction that expired"),
        ["transaction-error"] = new("transactions", ["PROCESSING", "ERROR"], "a transaction that failed"),
        ["order-closed"] = new("payment_orders", ["CLOSED"], "a payment order paid"),
        ["order-refunded"] = new("payment_orders", ["CLOSED", "REFUNDED"], "a paid payment order refunded"),
        ["order-expired"] = new("payment_orders", ["EXPIRED"], "a payment order that expired"),
        ["order-rejected"] = new("payment_orders", ["REJECTED"], "a payment order rejected"),
        ["intent-finished"] = new("payment_intents", ["FINISHED"], "a Point payment intent paid"),
        ["intent-canceled"] = new("payment_intents", ["CANCELED"], "a Point payment intent canceled"),
        ["intent-error"] = new("payment_intents", ["ERROR"], "a Point payment intent that failed"),
    };

    public static Command Create()
    {
        var scenario = new Argument<string>("scenario")
        {
            Description = "One of: " + string.Join(", ", Scenarios.Keys),
        };
        var url = new Option<string>("--url")
        {
            Description = "Herald's address (default: HERALD_URL, else http://127.0.0.1:5080).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_URL") ?? "http://127.0.0.1:5080",
        };
        var key = new SecretOption("--key", "A merchant API key (hk_…)", "HERALD_API_KEY");
        var site = new Option<string>("--site") { Description = "For intent scenarios: mla, mlb or mlm.", DefaultValueFactory = _ => "mla" };
        // Said here, in one line, before anything is sent: the API would refuse it after the scenario began.
        site.Validators.Add(result =>
        {
            if (!EntityDocuments.PointSites.Contains(result.GetValueOrDefault<string>()))
            {
                result.AddError($"--site '{result.GetValueOrDefault<string>()}' is not a Point site: {string.Join(", ", EntityDocuments.PointSites)}.");
            }
        });
        var preference = new Option<string?>("--preference") { Description = "For order scenarios: make the order from this checkout preference." };
        url.Validators.Add(result =>
        {
            var given = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(given, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                // Not given on the command line, it came from the environment: named as it was given.
                result.AddError($"{(result.Implicit ? "HERALD_URL" : "--url")} '{given}' is not Herald's http:// or https:// address such as http://127.0.0.1:5080.");
            }
        });
        var command = new Command("trigger", "Walk a new entity through a scenario, showing each step.") { scenario, url, key, site, preference };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(scenario)!;
            if (!Scenarios.TryGetValue(name, out var chosen))
            {
                await Console.Error.WriteLineAsync($"herald: unknown scenario '{name}'; known: {string.Join(", ", Scenarios.Keys)}");
                return 1;
            }
            if (parse.GetResult(site) is { Implicit: false } && chosen.Collection != "payment_intents")
            {
                await Console.Error.WriteLineAsync($"herald: --site is for the intent scenarios; {name} walks a {chosen.Collection.TrimEnd('s').Replace('_', ' ')}");
                return 1;
            }
            if (parse.GetResult(preference) is { Implicit: false } && chosen.Collection != "payment_orders")
            {
                await Console.Error.WriteLineAsync($"herald: --preference is for the order scenarios; {name} walks a {chosen.Collection.TrimEnd('s').Replace('_', ' ')}");
                return 1;
            }
            var apiKey = key.ValueIn(parse);
            if (string.IsNullOrEmpty(apiKey))
            {
                await Console.Error.WriteLineAsync("herald: give a merchant API key with --key or HERALD_API_KEY");
                return 1;
            }
            using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!.TrimEnd('/') + "/"), Timeout = AnswerTimeout };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            Console.WriteLine($"{name}: {chosen.Description}");
            try
            {
                var created = await SendAsync(http, chosen.Collection, CreateBody(chosen.Collection, parse.GetValue(site)!, parse.GetValue(preference)), cancellationToken);
                var id = Text(created, "internalId") ?? Text(created, "id") ?? throw NotHerald($"POST /v1/{chosen.Collection} answered without an id");
                var state = State(created);
                Console.WriteLine($"  created {chosen.Collection.TrimEnd('s')} {id} ({state})");
                foreach (var to in chosen.Steps)
                {
                    JsonObject? data = to == "FINISHED"
                        ? new JsonObject { ["payment"] = new JsonObject { ["id"] = Random.Shared.NextInt64(100_000_000, 999_999_999), ["state"] = "approved", ["type"] = "credit_card" } }
                        : null;
                    var moved = await SendAsync(http, $"{chosen.Collection}/{id}/transitions", new JsonObject { ["to"] = to, ["data"] = data }, cancellationToken);
                    Console.WriteLine($"  {state} → {State(moved)}");
                    state = State(moved);
                }
                Console.WriteLine($"  see its notifications: GET /v1/notifications?entity_id={id}");
                return 0;
            }
            // The handler's words for a failed handshake point at an inner exception nobody is shown: its reason instead.
            catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException why)
            {
                await Console.Error.WriteLineAsync($"herald: no TLS connection to {http.BaseAddress}: {why.Message.ReplaceLineEndings(" ")} (does Herald serve https:// there, with a certificate this machine trusts?)");
                return 1;
            }
            catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse)
            {
                // Something listens there, but no HTTP server: the client's own words said only that
                // "an error occurred while sending the request".
                await Console.Error.WriteLineAsync($"herald: {http.BaseAddress} did not answer as an HTTP server does ({(e.InnerException ?? e).Message.TrimEnd('.')}): does --url point at Herald?");
                return 1;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"herald: {e.Message}");
                return 1;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"herald: no answer from {http.BaseAddress} within {AnswerTimeout.TotalSeconds:N0} s");
                return 1;
            }
        });
        return command;
    }

    /// <summary>How long a call waits for Herald's answer.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private static string State(JsonObject entity) => Text(entity, "status") ?? Text(entity, "state") ?? throw NotHerald("an answer named no state");

    /// <summary>A field of an answer that is text, or null.</summary>
    private static string? Text(JsonObject answer, string field) =>
        answer[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static HttpRequestException NotHerald(string what) => new($"{what}: does --url point at Herald?");

    private static JsonObject CreateBody(string collection, string site, string? preference) => collection switch
    {
        "transactions" => new JsonObject
        {
            ["paymentAmount"] = 130,
            ["currency"] = "BRL",
            ["country"] = "BR",
            ["merchantReference"] = "trigger-" + Guid.NewGuid().ToString("N")[..8],
            ["customer"] = new JsonObject { ["name"] = "John Doe", ["email"] = "john@email.test" },
        },
        "payment_orders" => new JsonObject { ["amount"] = 50, ["currency"] = "ARS", ["preference_id"] = preference },
        _ => new JsonObject
        {
            ["amount"] = 100,
            ["site"] = site,
            ["client_id"] = 1234567890,
            ["caller_id"] = 9876543,
            ["additional_info"] = site == "mla"
                ? new JsonObject { ["external_reference"] = "trigger", ["ticket_number"] = "39SHDKKDJ" }
                : new JsonObject { ["external_reference"] = "trigger" },
        },
    };

    private static async Task<JsonObject> SendAsync(HttpClient http, string path, JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("v1/" + path, body, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        // The address asked, whole: a --url with a path of its own (…/v1) puts it before v1/.
        var asked = response.RequestMessage?.RequestUri?.AbsoluteUri ?? "/v1/" + path;
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST {asked} answered {(int)response.StatusCode}: {text}");
        }
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw NotHerald($"POST {asked} answered something other than a JSON object");
        }
        catch (System.Text.Json.JsonException)
        {
            throw NotHerald($"POST {asked} answered something other than JSON");
        }
    }
}
