using Herald.Receiver;
using Herald.Receiver.Events;
using Herald.Receiver.Idempotency;

// A merchant's service: Herald delivers payment notifications to POST /webhooks.
// HERALD_WEBHOOK_SECRET is the endpoint's whsec_ secret; HERALD_URL and HERALD_API_KEY let thin
// payment-order events fetch the order, as seed 001 asks.
var builder = WebApplication.CreateBuilder(args);
var urls = Environment.GetEnvironmentVariable("MERCHANT_URLS") ?? "http://127.0.0.1:4000";
builder.WebHost.UseUrls(urls);
var app = builder.Build();

// Remembers handled webhook-ids across restarts, so a redelivery never ships an order twice. Herald
// sends an event under one webhook-id to every endpoint that wants it: each instance of this
// service (one per endpoint) keeps its own file, named after its port unless MERCHANT_DB names one.
var handled = Environment.GetEnvironmentVariable("MERCHANT_DB") is { Length: > 0 } file
    ? file
    : $"merchant-webhooks-{new Uri(urls.Split(';')[0].Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal)).Port}.db";
var options = new HeraldWebhookOptions
{
    IdempotencyStore = new SqliteIdempotencyStore($"Data Source={handled}"),
};
foreach (var secret in (Environment.GetEnvironmentVariable("HERALD_WEBHOOK_SECRET") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
{
    options.Secrets.Add(secret.Trim());
}
if (Environment.GetEnvironmentVariable("HERALD_API_KEY") is { Length: > 0 } key)
{
    options.Client = new HeraldClient(
        new HttpClient { BaseAddress = new Uri(Environment.GetEnvironmentVariable("HERALD_URL") ?? "http://127.0.0.1:5080") }, key);
}

app.MapHeraldWebhooks("/webhooks", options, (evt, cancellationToken) =>
{
    // Runs once per notification; throwing answers 500 and Herald tries again later.
    var line = evt switch
    {
        TransactionEvent t => $"transaction {t.InternalId} is {t.Status} ({t.PaymentAmount} {t.Currency})",
        PaymentOrderEvent o => $"payment order {o.OrderId}: {o.EventType}; Herald says it is now {o.PaymentOrder?.Status ?? "(no client configured)"}",
        PaymentIntentEvent i => $"Point payment intent {i.IntentId} is {i.State}",
        OtherEvent { IsTest: true } => "Herald's test notification (the endpoint's Test): nothing to do",
        _ => $"something else: {evt.Payload.ToJsonString()}",
    };
    app.Logger.LogInformation("{WebhookId}: {What}", evt.WebhookId, line);
    return Task.CompletedTask;
});

app.Run();
