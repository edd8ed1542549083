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
            var key = IdempotencyKeyHeader.Read(http.Request);
            var body = await HeraldJson.ReadAsync<JsonObject>(http.Request);
            if (body.ContainsKey("notification_url"))
            {
                // Refused whatever its value, null included: the seed's integrations API has no such field.
                throw new HeraldException(ErrorKind.BadRequest,
                    "notification_url is not supported by the integrations API; notifications go to the merchant's endpoints of format point");
            }
            var request = HeraldJson.Validate<CreatePaymentIntentRequest>(body, HeraldJson.Api, "payment intent");
            var document = PaymentIntentDocument(request);
            var idempotency = CreationKey(key, EntityKind.PaymentIntent, document);
            var id = HeraldId.NewUuid(time);
            document["id"] = id;
            document["created_at"] = EntityDocuments.FormatPointTime(time.GetUtcNow());
            var recorded = await recorder.CreateAsync(merchant, EntityKind.PaymentIntent, id, document, null, http.RequestAborted, idempotency);
            return Created(recorded);
        })
        .Accepts<CreatePaymentIntentRequest>("application/json")
        .WithMetadata(new IdempotencyKeyHeader())
        .Produces<PaymentIntentResponse>(StatusCodes.Status201Created)
        .WithName("createPaymentIntent")
        .Refuses(StatusCodes.Status409Conflict, KeyUnderWay)
        .Refuses(StatusCodes.Status413PayloadTooLarge, TooLarge)
        .WithSummary("Create a Point payment intent, born OPEN. notification_url is refused: notifications go to the merchant's point endpoints. An Idempotency-Key header makes a retried call safe.");

        var orders = app.MapGroup("/v1/payment_orders").WithTags("Payment orders");
        orders.MapPost("", async (HttpContext http, ChangeRecorder recorder, IHeraldStore store, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var key = IdempotencyKeyHeader.Read(http.Request);
            var request = await HeraldJson.ReadAsync<CreatePaymentOrderRequest>(http.Request);
            Validation.Text(request.PreferenceId, "preference_id", Validation.MaxShortText);
            if (request.PreferenceId is not null && await store.GetPreferenceAsync(merchant, request.PreferenceId, http.RequestAborted) is null)
            {
                throw new HeraldException(ErrorKind.BadRequest, request.PreferenceId.Length == 0
                    ? "preference_id is empty: name a checkout preference of this merchant, or leave it out"
                    : $"preference_id {HeraldException.Quote(request.PreferenceId)} is not a checkout preference of this merchant");
            }
            var document = new JsonObject
            {
                ["id"] = null,
                ["preference_id"] = request.PreferenceId,
                ["amount"] = Validation.PositiveAmount(request.Amount, "amount"),
                ["currency"] = Validation.Currency(request.Currency),
                ["external_reference"] = Validation.Text(request.ExternalReference, "external_reference"),
                ["description"] = Validation.Text(request.Description, "description"),
                ["status"] = null,
                ["created_at"] = null,
                ["updated_at"] = null,
            };
            var idempotency = CreationKey(key, EntityKind.PaymentOrder, document);
            var now = time.GetUtcNow();
            var id = HeraldId.NewOpaque(time);
            document["id"] = id;
            document["created_at"] = EntityDocuments.FormatApiTime(now);
            document["updated_at"] = EntityDocuments.FormatApiTime(now);
            var recorded = await recorder.CreateAsync(merchant, EntityKind.PaymentOrder, id, document, request.PreferenceId, http.RequestAborted, idempotency);
            return Created(recorded);
        })
        .Accepts<CreatePaymentOrderRequest>("application/json")
        .WithMetadata(new IdempotencyKeyHeader())
        .Produces<PaymentOrderResponse>(StatusCodes.Status201Created)
        .WithName("createPaymentOrder")
        .Refuses(StatusCodes.Status409Conflict, KeyUnderWay)
        .Refuses(StatusCodes.Status413PayloadTooLarge, TooLarge)
        .WithSummary("Create a payment order, born OPENED; with preference_id its preference's webhook is notified. An Idempotency-Key header makes a retried call safe.");

        var transactions = app.MapGroup("/v1/transactions").WithTags("Transactions");
        transactions.MapPost("", async (HttpContext http, ChangeRecorder recorder, IHeraldStore store, TimeProvider time) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var key = IdempotencyKeyHeader.Read(http.Request);
            var body = await HeraldJson.ReadAsync<JsonObject>(http.Request, HeraldJson.Seed);
            RefuseAssigned(body, "");
            var request = HeraldJson.Validate<TransactionDocument>(body, HeraldJson.Seed, "transaction");
            Validation.Bounded(body, "transaction");
            CheckTransaction(request, body, "");
            // What the platform left out stays null (a sessionId made up here would name no session
            // anywhere); the merchant's name is the one field Herald knows for a fact, its merchant's.
            var document = JsonSerializer.SerializeToNode(request, HeraldJson.Seed)!.AsObject();
            var idempotency = CreationKey(key, EntityKind.Transaction, document);
            var id = HeraldId.NewUuid(time);
            document["internalId"] = id;
            document["merchantName"] ??= (await store.GetMerchantAsync(merchant, http.RequestAborted))?.Name;
            var recorded = await recorder.CreateAsync(merchant, EntityKind.Transaction, id, document, null, http.RequestAborted, idempotency);
            return Created(recorded);
        })
        .Accepts<TransactionDocument>("application/json")
        .WithMetadata(new IdempotencyKeyHeader())
        .Produces<TransactionDocument>(StatusCodes.Status201Created)
        .WithName("createTransaction")
        .Refuses(StatusCodes.Status409Conflict, KeyUnderWay)
        .Refuses(StatusCodes.Status413PayloadTooLarge, TooLarge)
        .WithSummary("Create a transaction (seed 003's fields), born INIT; a field left out is null, but merchantName, which is then the merchant's name in Herald. An Idempotency-Key header makes a retried call safe.");

        foreach (var (group, kind, name) in new[]
        {
            (intents, EntityKind.PaymentIntent, "PaymentIntent"), (orders, EntityKind.PaymentOrder, "PaymentOrder"), (transactions, EntityKind.Transaction, "Transaction"),
        })
        {
            group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
            {
                var entity = await store.GetEntityAsync(Caller.Of(http).Merchant, kind, id, http.RequestAborted)
                    ?? throw HeraldException.NotFound(kind.ApiName(), id);
                return Results.Json(entity.Document);
            })
            .Produces(StatusCodes.Status200OK, EntityResponses.For(kind))
            .WithName("get" + name)
            .WithSummary($"The {kind.ApiName()} at its latest version.");

            group.MapPost("/{id}/transitions", async (string id, HttpContext http, ChangeRecorder recorder) =>
            {
                var merchant = Caller.Of(http).Merchant;
                var key = IdempotencyKeyHeader.Read(http.Request);
                var body = await HeraldJson.ReadAsync<JsonObject>(http.Request);
                // With a key, what earlier releases recorded for it, taken before anything is read out
                // of the body: its members in name order, and before that the body as it was written.
                string[]? earlier = key is null ? null
                    : [Scoped(CanonicalHash(body)), Scoped(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString()))))];
                var request = HeraldJson.Validate<TransitionRequest>(body, HeraldJson.Api, "transition");
                // The state first: what data a move may carry depends on where it goes.
                var to = StateMachines.For(kind).Target(Validation.RequiredText(request.To, "to", 64));
                var data = ValidateData(kind, to, request.Data);
                (string, string)? idempotency = null;
                if (key is not null)
                {
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
            .Refuses(StatusCodes.Status409Conflict, $"its state machine forbids the move from the {kind.ApiName()}'s state (or other requests kept changing it meanwhile; try again)")
            .Refuses(StatusCodes.Status413PayloadTooLarge, TooLarge)
            .WithSummary($"Move a {kind.ApiName()} to another state; 409 when its state machine forbids it. An Idempotency-Key header makes a retried call safe.");
        }
    }

    /// <summary>What a create with an Idempotency-Key another request holds is refused with (409).</summary>
    internal const string KeyUnderWay = "a request with the same Idempotency-Key is under way";

    /// <summary>What a change that would make the entity too large is refused with (413).</summary>
    private static readonly string TooLarge = $"the entity, as it would be stored and notified, over {EntityDocuments.MaxDocumentBytes / 1024} KB";

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

    /// <summary>
    /// A creation's key with the hash of what it asks for: the new document as the request makes
    /// it, before Herald gives it an id, times or the merchant's name, so that a retry saying the
    /// same in other words (members in another order, a field left out given as null) is the same
    /// request, whenever it comes. Scoped by kind, where a transition's hash is by kind and entity.
    /// </summary>
    private static (string, string)? CreationKey(string? key, EntityKind kind, JsonObject requested) =>
        key is null ? null : (key, $"{kind.ApiName()}:{CanonicalHash(requested)}");

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

    /// <summary>A payment intent's document as the request makes it: its <c>id</c> and <c>created_at</c> are left null for Herald to set.</summary>
    private static JsonObject PaymentIntentDocument(CreatePaymentIntentRequest request)
    {
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
            additional["ticket_number"] = Validation.Text(ticket, "additional_info.ticket_number", Validation.MaxShortText);
        }
        return new JsonObject
        {
            ["id"] = null,
            ["amount"] = Validation.PositiveWholeAmount(request.Amount, "amount"),
            ["caller_id"] = Validation.PositiveId(request.CallerId, "caller_id"),
            ["client_id"] = Validation.PositiveId(request.ClientId, "client_id"),
            ["created_at"] = null,
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
                Validation.Bounded(data, "data");
                if (intent.Payment is not { } payment)
                {
                    return null;
                }
                // Seed 000's payment says which one it was and how it went: an id above 0, a state and a type.
                Validation.PositiveId(payment.Id, "data.payment.id");
                Validation.RequiredText(payment.State, "data.payment.state");
                Validation.RequiredText(payment.Type, "data.payment.type");
                // Kept as read, its id written plainly however the request wrote it.
                return JsonSerializer.SerializeToNode(intent, HeraldJson.Api)!.AsObject();
            case EntityKind.PaymentOrder:
                if (data is not null)
                {
                    HeraldJson.ValidateField<PaymentOrderData>(data, HeraldJson.Api, "data");
                    Validation.Bounded(data, "data");
                }
                return data;
            default:
                if (data is null)
                {
                    return null;
                }
                RefuseAssigned(data, "data.");
                var changed = HeraldJson.ValidateField<TransactionDocument>(data, HeraldJson.Seed, "data");
                Validation.Bounded(data, "data");
                CheckTransaction(changed, data, "data.");
                return data;
        }
    }

    /// <summary>
    /// A transaction's values held to what seed 003 shows them to be: a positive amount, a currency
    /// and countries by their ISO codes, no order line of fewer than nothing. A creation
    /// (<paramref name="prefix"/> empty) must give the amount and currency; a transition's data is
    /// held to what a creation is in the fields it gives (<paramref name="given"/>).
    /// </summary>
    private static void CheckTransaction(TransactionDocument transaction, JsonObject given, string prefix)
    {
        var creation = prefix.Length == 0;
        if (creation)
        {
            // Said as every other create says a field left out, rather than as a value out of its rules.
            var missing = ((string[])["paymentAmount", "currency"]).Where(name => !given.ContainsKey(name)).ToList();
            if (missing.Count > 0)
            {
                throw new HeraldException(ErrorKind.BadRequest,
                    $"transaction: missing required field {string.Join(", ", missing.Select(name => $"'{name}'"))}");
            }
        }
        if (creation || given.ContainsKey("paymentAmount"))
        {
            Validation.PositiveAmount(transaction.PaymentAmount, prefix + "paymentAmount");
        }
        if (creation || given.ContainsKey("currency"))
        {
            Validation.Currency(transaction.Currency, prefix + "currency");
        }
        Validation.Country(transaction.Country, prefix + "country");
        Validation.Country(transaction.Customer?.Address?.Country, prefix + "customer.address.country");
        Validation.Country(transaction.ShippingAddress?.Country, prefix + "shippingAddress.country");
        for (var i = 0; i < (transaction.OrderDetails?.Count ?? 0); i++)
        {
            Validation.NotNegative(transaction.OrderDetails![i].Quantity, $"{prefix}orderDetails[{i}].quantity");
        }
    }
}
