using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Delivery.Sending;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Payloads;
using Herald.Storage.Model;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// The document's <c>webhooks</c>: what Herald posts to an endpoint of each format (transaction,
/// point, thin), with the Standard Webhooks headers, the body's shape read off the format's own
/// rendering of the seeds' example, and that example; and what an endpoint's test sends to any of
/// them, and what an operator webhook receives; for receivers generating code or checking what arrives.
/// </summary>
internal sealed class WebhookPayloads : IOpenApiDocumentTransformer
{
    // The body of each format with the most in it: a payment intent's payment is there only when FINISHED.
    // NeverNull: the fields no delivery carries null, by their path (an object's fields after a dot,
    // a list's items' fields as the list's): the entity's id and state, and whatever a creation
    // requires and no transition may clear. WholeNumbers: the fields Herald takes only as whole
    // numbers (and writes plainly), documented as integers where their example alone says number.
    private static readonly (PayloadFormat Format, string EventType, string[] NeverNull, string[] WholeNumbers, string Summary)[] Shown =
    [
        (PayloadFormat.Transaction, "TRANSACTION.COMPLETED", ["internalId", "status", "paymentAmount", "currency"], ["orderDetails.quantity"],
            "A transaction's change (seed 003): the whole transaction, its status the state it reached. Only HTTP 200 counts as received, unless the endpoint says otherwise."),
        (PayloadFormat.Point, "PAYMENT_INTENT.FINISHED",
            ["amount", "caller_id", "client_id", "created_at", "id", "payment", "payment.id", "payment.state", "payment.type", "state", "additional_info", "additional_info.ticket_number"],
            ["amount", "caller_id", "client_id", "payment.id"],
            "A Point payment intent's change (seed 000): FINISHED, CANCELED and ERROR only; payment only when FINISHED, ticket_number only for site mla, created_at as yyyy-MM-dd HH:mm:ss in UTC."),
        (PayloadFormat.Thin, "PAYMENT_ORDER.CLOSED", ["id", "event_type", "entity_type", "entity_id"], [],
            "A payment order's change (seed 001): a thin event; the receiver reads the order with GET /v1/payment_orders/{entity_id}."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>(StringComparer.Ordinal);
        foreach (var (format, eventType, neverNull, wholeNumbers, summary) in Shown)
        {
            var example = JsonNode.Parse(PayloadExamples.Render(format, eventType)!)!.AsObject();
            var body = Shape(example, "", new HashSet<string>(neverNull, StringComparer.Ordinal), new HashSet<string>(wholeNumbers, StringComparer.Ordinal));
            // Every key is there in every delivery (null when the platform left it out), but those the seed shows only sometimes.
            body.Required = new HashSet<string>(example.Select(p => p.Key).Where(k => format != PayloadFormat.Point || k is not ("payment" or "ticket_number")), StringComparer.Ordinal);
            body.Example = example;
            // What a generated receiver can switch on: the states and event types this format sends.
            var kind = format.EntityKind();
            SentOneOf(body, EntityDocuments.StateField(kind), StateMachines.For(kind).States.Where(state => format.Notifies(state)));
            SentOneOf(body, "event_type", format.EventTypes());
            SentOneOf(body, "entity_type", [kind.TypeName()]);
            var name = format.ApiName();
            document.Webhooks[name] = Posted(name + "Notification", $"What an endpoint of format {name} receives",
                summary + " Signed as Standard Webhooks are: see docs/receiver.md (Receiving in any language).",
                Header("webhook-test",
                    "1 on every request an endpoint's test sends, absent on deliveries. Outside the signature: tell a test by its webhook-id (evt_test_…). "
                    + "A test that names no event_type sends Herald's test notification instead of this body, in every format: see webhooks.test.", required: false),
                body, new OpenApiResponses
                {
                    [format == PayloadFormat.Transaction ? "200" : "2XX"] = new OpenApiResponse
                    {
                        Description = "Received: Herald sends it no more (any other answer, or none, is retried on the endpoint's schedule, but 410). "
                            + $"What counts as received is the endpoint's success setting (200 or 2xx); {(format == PayloadFormat.Transaction ? "200" : "2xx")} is this format's default.",
                    },
                    ["401"] = new OpenApiResponse { Description = "The signature did not verify: retried, as any failure." },
                    ["410"] = GoneResponse,
                });
        }
        document.Webhooks["test"] = TestNotification();
        document.Webhooks["operator"] = OperatorEvent();
        return Task.CompletedTask;
    }

    /// <summary>
    /// What an operator webhook (<c>POST /v1/operator/endpoints</c>) receives: Herald's own events,
    /// <c>{id, type, created_at, data}</c>, <c>data</c> holding the fields of its type (see
    /// <c>OperatorEvents</c>), and its test's <c>endpoint.test</c>.
    /// </summary>
    private static OpenApiPathItem OperatorEvent()
    {
        static OpenApiSchema Of(JsonSchemaType type, string? description = null) => new() { Type = type, Description = description };
        string[] types = [OperatorEventTypes.EndpointDisabled, OperatorEventTypes.EndpointFailing, OperatorEventTypes.EndpointRecovered,
            OperatorEventTypes.NotificationDead, OperatorEventTypes.EndpointTest];
        var data = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "endpoint.disabled: merchant_id, endpoint_id, reason. endpoint.failing: merchant_id, endpoint_id, consecutive_failures, last_status_code, last_error. "
                + "endpoint.recovered: merchant_id, endpoint_id. notification.dead: merchant_id, endpoint_id, notification_id, event_id, attempts, last_error. "
                + "endpoint.test: endpoint_id, test.",
            Required = new HashSet<string>(["endpoint_id"], StringComparer.Ordinal),
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["merchant_id"] = Of(JsonSchemaType.String),
                ["endpoint_id"] = Of(JsonSchemaType.String),
                ["reason"] = Of(JsonSchemaType.String, "Why the endpoint was disabled: a 410 Gone, or days of nothing but failures."),
                ["consecutive_failures"] = Of(JsonSchemaType.Integer),
                ["last_status_code"] = Of(JsonSchemaType.Integer | JsonSchemaType.Null, "Null when no answer came."),
                ["last_error"] = Of(JsonSchemaType.String | JsonSchemaType.Null),
                ["notification_id"] = Of(JsonSchemaType.String),
                ["event_id"] = Of(JsonSchemaType.String),
                ["attempts"] = Of(JsonSchemaType.Integer),
                ["test"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Enum = [JsonValue.Create(true)] },
            },
        };
        var body = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["id"] = Of(JsonSchemaType.String, "The event's id (evt_…), the webhook-id of its every attempt; a test's begins evt_test_."),
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = types.Select(t => (JsonNode)JsonValue.Create(t)).ToList() },
                ["created_at"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
                ["data"] = data,
            },
            Example = new JsonObject
            {
                ["id"] = "evt_0123456789abcdefghjkmnpqrs",
                ["type"] = OperatorEventTypes.NotificationDead,
                ["created_at"] = "2026-01-31T12:00:00.000Z",
                ["data"] = new JsonObject
                {
                    ["merchant_id"] = "mer_0123456789abcdefghjkmnpqrs",
                    ["endpoint_id"] = "ep_0123456789abcdefghjkmnpqrs",
                    ["notification_id"] = "ntf_0123456789abcdefghjkmnpqrs",
                    ["event_id"] = "evt_123456789abcdefghjkmnpqrst",
                    ["attempts"] = 12,
                    ["last_error"] = "HTTP 500",
                },
            },
        };
        body.Required = new HashSet<string>(body.Properties.Keys, StringComparer.Ordinal);
        return Posted("operatorEvent", "What an operator webhook receives: Herald's own events",
            "endpoint.disabled, endpoint.failing, endpoint.recovered and notification.dead, to the operator's webhooks (POST /v1/operator/endpoints), "
            + "delivered, signed and retried as notifications are; and endpoint.test, what POST /v1/operator/endpoints/{id}/test sends (with webhook-test: 1).",
            Header("webhook-test", "1 on what the webhook's test sends, absent on its events.", required: false),
            body, new OpenApiResponses
            {
                ["2XX"] = new OpenApiResponse { Description = "Received: Herald sends it no more (any other answer, or none, is retried, but 410)." },
                ["410"] = GoneResponse,
            });
    }

    private static OpenApiResponse GoneResponse => new()
    {
        Description = "The receiver is gone: the endpoint is disabled (disabled_reason says so) and nothing more is sent to it until it is resumed, "
            + "which delivers what waited meanwhile; nothing is dropped.",
    };

    private static List<IOpenApiParameter> Headers(OpenApiParameter test) =>
    [
        Header("webhook-id", "The event's id (evt_…): the same for every attempt of it and every endpoint it goes to. What an endpoint's test sends has an id of its own beginning evt_test_, which no event's has: acknowledge it without acting on it."),
        Header("webhook-timestamp", "When this attempt was signed, in seconds since 1970 (UTC)."),
        Header("webhook-signature", "v1, and the base64 of HMAC-SHA256 over {webhook-id}.{webhook-timestamp}.{body}, keyed with the base64-decoded secret after whsec_; one per signing secret, space-separated, newest first."),
        Header("webhook-attempt", "The notification's attempts so far plus one."),
        test,
    ];

    /// <summary>
    /// What an endpoint's test sends when it names no event type (<c>POST /v1/endpoints/{id}/test</c>,
    /// the portal's Send test): Herald's test notification, the same shape in every format, to the
    /// receiver that takes the format's deliveries, so a receiver checking bodies against the
    /// formats' schemas alone would refuse it.
    /// </summary>
    private static OpenApiPathItem TestNotification()
    {
        static OpenApiSchema Text(JsonNode[]? values = null) => new() { Type = JsonSchemaType.String, Enum = values?.ToList() };
        var formats = new[] { PayloadFormat.Transaction, PayloadFormat.Point, PayloadFormat.Thin };
        var body = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
            {
                ["id"] = Text(),
                ["event_type"] = Text([JsonValue.Create(EndpointTester.TestEventType)]),
                ["test"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Enum = [JsonValue.Create(true)] },
                ["endpoint_id"] = Text(),
                ["format"] = Text(formats.Select(f => (JsonNode)JsonValue.Create(f.ApiName())).ToArray()),
                ["sent_at"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            },
            Example = new JsonObject
            {
                ["id"] = "evt_test_0123456789abcdefghjkmnpqrs",
                ["event_type"] = EndpointTester.TestEventType,
                ["test"] = true,
                ["endpoint_id"] = "ep_0123456789abcdefghjkmnpqrs",
                ["format"] = "transaction",
                ["sent_at"] = "2026-01-31T12:00:00.000Z",
            },
        };
        body.Required = new HashSet<string>(body.Properties.Keys, StringComparer.Ordinal);
        return Posted("testNotification", "What an endpoint's test sends when it names no event_type, in every format",
            "Herald's test notification (event_type HERALD.TEST), sent by POST /v1/endpoints/{id}/test without an event_type and by the portal's test, "
            + "to the endpoint's URL, where its format's deliveries arrive: acknowledge it without acting on it. Signed as deliveries are.",
            Header("webhook-test", "1: the request is a test's."),
            body, new OpenApiResponses
            {
                ["2XX"] = new OpenApiResponse { Description = "Received: the test succeeded (for a transaction endpoint, only what its success rule counts)." },
            });
    }

    /// <summary>
    /// A webhook: Herald's POST of <paramref name="body"/> as JSON, with the Standard Webhooks headers
    /// and <paramref name="test"/>; no security scheme (Herald presents no credential of one: a
    /// receiver checks the signature headers).
    /// </summary>
    private static OpenApiPathItem Posted(string operationId, string summary, string description, OpenApiParameter test, OpenApiSchema body, OpenApiResponses responses) => new()
    {
        Operations = new Dictionary<HttpMethod, OpenApiOperation>
        {
            [HttpMethod.Post] = new OpenApiOperation
            {
                OperationId = operationId,
                Security = [],
                Summary = summary,
                Description = description,
                Parameters = Headers(test),
                RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/json"] = new OpenApiMediaType { Schema = body },
                    },
                },
                Responses = responses,
            },
        },
    };

    private static OpenApiParameter Header(string name, string description, bool required = true) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = required,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    /// <summary>
    /// The JSON Schema of <paramref name="node"/>'s shape at <paramref name="path"/> (empty for the
    /// body): its objects' keys and its values' types, each of them null too unless its path is
    /// one of <paramref name="neverNull"/> (the platform may leave it out), a number an integer
    /// where its path is one of <paramref name="wholeNumbers"/>.
    /// </summary>
    private static OpenApiSchema Shape(JsonNode? node, string path, IReadOnlySet<string> neverNull, IReadOnlySet<string> wholeNumbers)
    {
        var orNull = path.Length == 0 || neverNull.Contains(path) ? 0 : JsonSchemaType.Null;
        string Inner(string key) => path.Length == 0 ? key : path + "." + key;
        return node switch
        {
            JsonObject o => new OpenApiSchema
            {
                Type = JsonSchemaType.Object | orNull,
                Properties = o.ToDictionary(p => p.Key, p => (IOpenApiSchema)Shape(p.Value, Inner(p.Key), neverNull, wholeNumbers), StringComparer.Ordinal),
            },
            JsonArray a => new OpenApiSchema
            {
                Type = JsonSchemaType.Array | orNull,
                // An item is never null (a list holding null is refused); its fields are the list's.
                Items = a.Count > 0 ? ItemShape(a[0], path, neverNull, wholeNumbers) : new OpenApiSchema(),
            },
            JsonValue v => new OpenApiSchema
            {
                Type = v.GetValueKind() switch
                {
                    JsonValueKind.String => JsonSchemaType.String,
                    JsonValueKind.Number => wholeNumbers.Contains(path) ? JsonSchemaType.Integer : JsonSchemaType.Number,
                    _ => JsonSchemaType.Boolean,
                } | orNull,
            },
            _ => new OpenApiSchema(),
        };
    }

    private static void SentOneOf(OpenApiSchema body, string field, IEnumerable<string> values)
    {
        if (body.Properties is { } fields && fields.TryGetValue(field, out var shape) && shape is OpenApiSchema schema)
        {
            ValueRules.OneOf(schema, values);
        }
    }

    private static OpenApiSchema ItemShape(JsonNode? item, string path, IReadOnlySet<string> neverNull, IReadOnlySet<string> wholeNumbers)
    {
        var shape = Shape(item, path, neverNull, wholeNumbers);
        shape.Type &= ~JsonSchemaType.Null;
        return shape;
    }
}
