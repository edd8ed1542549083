using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Delivery.Recording;
using Herald.Entities;
using Herald.Errors;
using Herald.Ids;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Server.Api;

/// <summary>The three entity kinds: create, read, and change state.</summary>
internal static class EntitiesApi
{
    public static void MapEntities(this IEndpointRouteBuilder app)
    {
        var intents = app.MapGroup("/v1/payment_intents").WithTags("Payment intents");
        intents.MapPost("", async (HttpContext http, ChangeRecorder recorder, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var body = await HeraldJson.ReadAsync<JsonObject>(http.Request);
            if (body.ContainsKey("notification_url"))
            {
                // Refused whatever its value, null included: the seed's integrations API has no such field.
                throw new HeraldException(ErrorKind.BadRequest,
                    "notification_url is not supported by the integrations API; notifications go to the merchant's endpoints of format point");
            }
            var request = HeraldJson.Validate<CreatePaymentIntentRequest>(body, HeraldJson.Api, "payment intent");
            var document = PaymentIntentDocument(request, time);
            var id = document["id"]!.GetValue<string>();
            var recorded = await recorder.CreateAsync(merchant, EntityKind.PaymentIntent, id, document, null, http.RequestAborted);
            return Created(recorded);
        })
        .Accepts<CreatePaymentIntentRequest>("application/json")
        .Produces<PaymentIntentResponse>(StatusCodes.Status201Created)
        .WithName("createPaymentIntent")
        .WithSummary("Create a Point payment intent, born OPEN. notification_url is refused: notifications go to the merchant's point endpoints.");

        var orders = app.MapGroup("/v1/payment_orders").WithTags("Payment orders");
        orders.MapPost("", async (HttpContext http, ChangeRecorder recorder, IHeraldStore store, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var request = await HeraldJson.ReadAsync<CreatePaymentOrderRequest>(http.Request);
            Validation.Text(request.PreferenceId, "preference_id", 64);
            if (request.PreferenceId is not null && await store.GetPreferenceAsync(merchant, request.PreferenceId, http.RequestAborted) is null)
            {
                throw new HeraldException(ErrorKind.BadRequest, $"preference_id {request.PreferenceId} is not a checkout preference of this merchant");
            }
            var now = time.GetUtcNow();
            var id = HeraldId.NewOpaque(time);
            var document = new JsonObject
            {
                ["id"] = id,
                ["preference_id"] = request.PreferenceId,
                ["amount"] = Validation.PositiveAmount(request.Amount, "amount"),
                ["currency"] = Validation.Currency(request.Currency),
                ["external_reference"] = Validation.Text(request.ExternalReference, "external_reference"),
                ["description"] = Validation.Text(request.Description, "description"),
                ["status"] = null,
                ["created_at"] = EntityDocuments.FormatApiTime(now),
                ["updated_at"] = EntityDocuments.FormatApiTime(now),
            };
            var recorded = await recorder.CreateAsync(merchant, EntityKind.PaymentOrder, id, document, request.PreferenceId, http.RequestAborted);
            return Created(recorded);
        })
        .Accepts<CreatePaymentOrderRequest>("application/json")
        .Produces<PaymentOrderResponse>(StatusCodes.Status201Created)
        .WithName("createPaymentOrder")
        .WithSummary("Create a payment order, born OPENED; with preference_id its preference's webhook is notified.");

        var transactions = app.MapGroup("/v1/transactions").WithTags("Transactions");
        transactions.MapPost("", async (HttpContext http, ChangeRecorder recorder, IHeraldStore store, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var body = await HeraldJson.ReadAsync<JsonObject>(http.Request, HeraldJson.Seed);
            RefuseAssigned(body, "");
            var request = HeraldJson.Validate<TransactionDocument>(body, HeraldJson.Seed, "transaction");
            Validation.BoundedStrings(body, "transaction");
            Validation.PositiveAmount(request.PaymentAmount, "paymentAmount");
            Validation.Currency(request.Currency);
            var id = HeraldId.NewUuid(time);
            var merchantName = request.MerchantName ?? (await store.GetMerchantAsync(merchant, http.RequestAborted))?.Name;
            var document = JsonSerializer.SerializeToNode(request with
            {
                InternalId = id,
                SessionId = request.SessionId ?? Guid.NewGuid().ToString(),
                MerchantName = merchantName,
            }, HeraldJson.Seed)!.AsObject();
            var recorded = await recorder.CreateAsync(merchant, EntityKind.Transaction, id, document, null, http.RequestAborted);
            return Created(recorded);
        })
        .Accepts<TransactionDocument>("application/json")
        .Produces<TransactionDocument>(StatusCodes.Status201Created)
        .WithName("createTransaction")
        .WithSummary("Create a transaction (seed 003's fields), born INIT.");

        foreach (var (group, kind, name) in new[]
        {
            (intents, EntityKind.PaymentIntent, "PaymentIntent"), (orders, EntityKind.PaymentOrder, "PaymentOrder"), (transactions, EntityKind.Transaction, "Transaction"),
        })
        {
            group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
            {
                var entity = await store.GetEntityAsync(Caller.Of(http).Merchant, kind, id, http.RequestAborted)
                    ?? throw HeraldException.NotFound($"{kind.ApiName()} {id}");
                return Results.Json(entity.Document);
            })
            .Produces(StatusCodes.Status200OK, EntityResponses.For(kind))
            .WithName("get" + name)
            .WithSummary($"The {kind.ApiName()} at its latest version.");

            group.MapPost("/{id}/transitions", async (string id, HttpContext http, ChangeRecorder recorder) =>
            {
                var merchant = Caller.Of(http).Merchant;
                var body = await HeraldJson.ReadAsync<JsonObject>(http.Request);
                var keys = http.Request.Headers[IdempotencyKeyHeader.Name];
                if (keys.Count > 1)
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"{IdempotencyKeyHeader.Name} is given {keys.Count} times; give one");
                }
                var key = keys.ToString();
                // With a key, what earlier releases recorded for it, taken before anything is read out
                // of the body: its members in name order, and before that the body as it was written.
                string[]? earlier = key.Length == 0 ? null
                    : [Scoped(CanonicalHash(body)), Scoped(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString()))))];
                var request = HeraldJson.Validate<TransitionRequest>(body, HeraldJson.Api, "transition");
                // The state first: what data a move may carry depends on where it goes.
                var to = StateMachines.For(kind).Target(Validation.RequiredText(request.To, "to", 64));
                var data = ValidateData(kind, to, request.Data);
                (string, string)? idempotency = null;
                if (key.Length > 0)
                {
                    Validation.Text(key, IdempotencyKeyHeader.Name, IdempotencyKeyHeader.MaxLength);
                    // The request as it is taken, not as it was written: a state in another spelling
                    // (DECLINED for DECINED), a field given as null where it may be left out, or no data given as {}, is the same request.
                    var taken = new JsonObject { ["to"] = to };
                    if (data is { Count: > 0 })
                    {
                        taken["data"] = data.DeepClone();
                    }
                    idempotency = (key, Scoped(CanonicalHash(taken)));
                }
                var recorded = await recorder.TransitionAsync(merchant, kind, id, to, data, idempotency, http.RequestAborted,
                    kind == EntityKind.Transaction ? AsTransaction : null, earlier);
                string Scoped(string hash) => $"{kind.ApiName()}:{id}:{hash}";
                return Results.Json(recorded.Entity.Document, statusCode: StatusCodes.Status200OK);
            })
            .Accepts(TransitionShape(kind), "application/json")
            .Produces(StatusCodes.Status200OK, EntityResponses.For(kind))
            .WithMetadata(new IdempotencyKeyHeader())
            .WithName("transition" + name)
            .WithSummary($"Move a {kind.ApiName()} to another state; 409 when its state machine forbids it. An Idempotency-Key header makes a retried call safe.");
        }
    }

    /// <summary>What a kind's transition takes, as the document shows it.</summary>
    internal static Type TransitionShape(EntityKind kind) => kind switch
    {
        EntityKind.PaymentIntent => typeof(PaymentIntentTransition),
        EntityKind.PaymentOrder => typeof(PaymentOrderTransition),
        _ => typeof(TransactionTransition),
    };

    /// <summary>
    /// Refuses a transaction's fields Herald sets (its id, its status) in what a client sends; one
    /// given as null is taken as left out, as a client generated from the document may send it.
    /// </summary>
    private static void RefuseAssigned(JsonObject body, string prefix)
    {
        foreach (var assigned in TransactionDocument.Assigned)
        {
            if (body.TryGetPropertyValue(assigned, out var value))
            {
                if (value is not null)
                {
                    throw new HeraldException(ErrorKind.BadRequest, $"{prefix}{assigned} is set by Herald and may not be given");
                }
                body.Remove(assigned);
            }
        }
    }

    /// <summary>201 with the new entity's document, and in Location the path that reads it.</summary>
    private static IResult Created(Recorded recorded) =>
        JsonResults.Located(recorded.Entity.Id, Results.Json(recorded.Entity.Document, statusCode: StatusCodes.Status201Created));

    /// <summary>
    /// The request's hash for its Idempotency-Key: members in name order at every level, so that a
    /// retry whose client wrote the same fields in another order is the same request.
    /// </summary>
    internal static string CanonicalHash(JsonNode body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteCanonical(writer, body);
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(name);
                    WriteCanonical(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item);
                }
                writer.WriteEndArray();
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    private static JsonObject PaymentIntentDocument(CreatePaymentIntentRequest request, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var site = request.Site;
        if (!EntityDocuments.PointSites.Contains(site))
        {
            throw new HeraldException(ErrorKind.BadRequest, $"unknown site {HeraldException.Quote(site)}; expected {string.Join(", ", EntityDocuments.PointSites)}");
        }
        var ticket = request.AdditionalInfo?.TicketNumber;
        if (site == "mla" && string.IsNullOrWhiteSpace(ticket))
        {
            throw new HeraldException(ErrorKind.BadRequest, "additional_info.ticket_number is required for site mla");
        }
        if (site != "mla" && ticket is not null)
        {
            throw new HeraldException(ErrorKind.BadRequest, $"additional_info.ticket_number is only used for site mla, not {site}");
        }
        var additional = new JsonObject { ["external_reference"] = Validation.Text(request.AdditionalInfo?.ExternalReference, "additional_info.external_reference") };
        if (site == "mla")
        {
            additional["ticket_number"] = Validation.Text(ticket, "additional_info.ticket_number", 64);
        }
        return new JsonObject
        {
            ["id"] = HeraldId.NewUuid(time),
            ["amount"] = Validation.PositiveWholeAmount(request.Amount, "amount"),
            ["caller_id"] = request.CallerId,
            ["client_id"] = request.ClientId,
            ["created_at"] = EntityDocuments.FormatPointTime(now),
            ["site"] = site,
            ["state"] = null,
            ["additional_info"] = additional,
        };
    }

    /// <summary>
    /// A transaction's document after a transition's data was merged in, written again as a
    /// creation writes it: every key of seed 003 present (an object the data brought where there was
    /// none gets the keys it left out, as null), numbers as Herald writes them.
    /// </summary>
    private static JsonObject AsTransaction(JsonObject document) =>
        JsonSerializer.SerializeToNode(HeraldJson.Validate<TransactionDocument>(document, HeraldJson.Seed, "transaction"), HeraldJson.Seed)!.AsObject();

    /// <summary>
    /// Checks a transition's <c>data</c> against what the kind allows (types included) and returns
    /// it for merging; a FINISHED payment intent must say which payment finished it.
    /// </summary>
    private static JsonObject? ValidateData(EntityKind kind, string to, JsonObject? data)
    {
        switch (kind)
        {
            case EntityKind.PaymentIntent:
                var intent = data is null ? new PaymentIntentData() : HeraldJson.ValidateField<PaymentIntentData>(data, HeraldJson.Api, "data");
                var finishing = to == "FINISHED";
                if (finishing && intent.Payment is null)
                {
                    throw new HeraldException(ErrorKind.BadRequest, "data.payment {id, state, type} is required to finish a payment intent");
                }
                if (!finishing && intent.Payment is not null)
                {
                    throw new HeraldException(ErrorKind.BadRequest, "data.payment is only carried by a FINISHED payment intent");
                }
                // The payment's texts are bounded as a creation's are.
                Validation.BoundedStrings(data, "data");
                return data;
            case EntityKind.PaymentOrder:
                if (data is not null)
                {
                    HeraldJson.ValidateField<PaymentOrderData>(data, HeraldJson.Api, "data");
                    Validation.BoundedStrings(data, "data");
                }
                return data;
            default:
                if (data is null)
                {
                    return null;
                }
                RefuseAssigned(data, "data.");
                var changed = HeraldJson.ValidateField<TransactionDocument>(data, HeraldJson.Seed, "data");
                Validation.BoundedStrings(data, "data");
                // What a transition changes is held to what a creation is: a positive amount, a currency code.
                if (data.ContainsKey("paymentAmount"))
                {
                    Validation.PositiveAmount(changed.PaymentAmount, "data.paymentAmount");
                }
                if (data.ContainsKey("currency"))
                {
                    Validation.Currency(changed.Currency, "data.currency");
                }
                return data;
        }
    }
}
