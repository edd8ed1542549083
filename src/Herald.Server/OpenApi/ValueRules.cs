using System.Text.Json.Nodes;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Retry;
using Herald.Server.Api;
using Herald.Storage.Model;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Herald.Server.OpenApi;

/// <summary>
/// What the API checks in a value, written into the document so that a client generated from it
/// knows before it asks: the values a field takes (from the same lists the checks use), the
/// ranges and lengths it is held to, which fields a body must have, and that amounts are decimals
/// kept as given (never rounded as a double would be).
/// </summary>
internal sealed class ValueRules : IOpenApiSchemaTransformer, IOpenApiOperationTransformer, IOpenApiDocumentTransformer
{
    private static readonly string[] Formats = PayloadFormats.All.Select(f => f.ApiName()).ToArray();
    private static readonly string[] SuccessRuleNames = Enum.GetValues<SuccessRule>().Select(r => r.ApiName()).ToArray();
    private static readonly string[] RetryPolicyNames = Enum.GetValues<RetryPolicy>().Select(p => p.ApiName()).ToArray();
    private static readonly string[] EntityKindNames = EntityKinds.All.Select(k => k.ApiName()).ToArray();

    /// <summary>Every type an endpoint may filter on: those its format sends.</summary>
    private static readonly string[] NotifiedTypes = Events.EventTypes.Spellings
        .Where(type => Events.EventTypes.TryNormalize(type, out var known) && PayloadFormats.All.Any(f => f.EventTypes().Contains(known, StringComparer.Ordinal)))
        .ToArray();

    /// <summary>The rules of a body's fields, by the body's type and the field's name.</summary>
    private static readonly Dictionary<(Type, string), Action<OpenApiSchema>> Fields = FieldRules();

    private static Dictionary<(Type, string), Action<OpenApiSchema>> FieldRules()
    {
        var rules = new Dictionary<(Type, string), Action<OpenApiSchema>>
        {
            [(typeof(CreateEndpointRequest), "format")] = s => OneOf(s, Formats),
            [(typeof(CreateApiKeyRequest), "scope")] = s => OneOf(s, Herald.Storage.Model.ApiKeyScopes.All),
            [(typeof(RotateSecretRequest), "grace_seconds")] = s => Between(s, 0, EndpointsApi.MaxGraceSeconds),
            [(typeof(CreatePortalLinkRequest), "expires_in_seconds")] = s => Between(s, Portal.PortalLinks.MinExpiresInSeconds, Portal.PortalLinks.MaxExpiresInSeconds),
            // Blank is refused as no name at all: at least one character that is not a space.
            [(typeof(CreateMerchantRequest), "name")] = s => (s.MinLength, s.MaxLength, s.Pattern) = (1, Validation.MaxMerchantName, @"\S"),
            [(typeof(CreatePaymentIntentRequest), "site")] = s => OneOf(s, EntityDocuments.PointSites),
            // Seed 000's amount is a whole number; Herald refuses a fraction.
            [(typeof(CreatePaymentIntentRequest), "amount")] = s =>
            {
                (s.Type, s.Format) = (JsonSchemaType.Integer, "int64");
                AboveZero(s);
            },
            // Seed 000's ids are all above 0; a payment says how it went.
            [(typeof(CreatePaymentIntentRequest), "client_id")] = AboveZero,
            [(typeof(CreatePaymentIntentRequest), "caller_id")] = AboveZero,
            [(typeof(PaymentInfo), "id")] = AboveZero,
            [(typeof(PaymentInfo), "state")] = s => s.MinLength = 1,
            [(typeof(PaymentInfo), "type")] = s => s.MinLength = 1,
            [(typeof(CreatePaymentOrderRequest), "currency")] = Currency,
            [(typeof(CreatePaymentOrderRequest), "amount")] = AboveZero,
            // Required, so never null: the document also answers with them, always there.
            [(typeof(TransactionDocument), "currency")] = s => Currency(NotNull(s)),
            [(typeof(TransactionDocument), "paymentAmount")] = s => AboveZero(NotNull(s)),
            [(typeof(TransactionDocument), "country")] = Country,
            [(typeof(SeedAddress), "country")] = Country,
            [(typeof(SeedOrderDetail), "quantity")] = s => s.Minimum = "0",
            [(typeof(TransactionDocument), "orderDetails")] = s => s.MaxItems = Validation.MaxListEntries,
            [(typeof(NotificationResponse), "status")] = s => OneOf(s, NotificationStatuses.All),
            // What an answer holds, from the same lists: a generated client gets a union it can switch on.
            [(typeof(EndpointResponse), "format")] = s => OneOf(s, Enum.GetValues<PayloadFormat>().Select(f => f.ApiName())),
            [(typeof(EndpointResponse), "success")] = s => OneOf(s, SuccessRuleNames),
            [(typeof(EndpointResponse), "retry")] = s => OneOf(s, RetryPolicyNames),
            [(typeof(EndpointResponse), "source")] = s => OneOf(s, [EndpointSources.Api, EndpointSources.CheckoutPreference, EndpointSources.Operator]),
            [(typeof(ApiKeyResponse), "scope")] = s => OneOf(s, Herald.Storage.Model.ApiKeyScopes.All),
            [(typeof(AttemptResponse), "trigger")] = s => OneOf(s, [AttemptTriggers.Schedule, AttemptTriggers.Manual]),
            [(typeof(EventResponse), "entity_kind")] = s => OneOf(s, EntityKindNames),
            [(typeof(NotificationResponse), "entity_kind")] = s => OneOf(s, EntityKindNames),
            [(typeof(PaymentIntentResponse), "site")] = s => OneOf(s, EntityDocuments.PointSites),
            [(typeof(PaymentIntentResponse), "state")] = s => OneOf(s, StateMachines.For(EntityKind.PaymentIntent).States),
            [(typeof(PaymentOrderResponse), "status")] = s => OneOf(s, StateMachines.For(EntityKind.PaymentOrder).States),
            // Assigned by Herald (a body naming it is refused), and in every answer one of these.
            [(typeof(TransactionDocument), "status")] = s => OneOf(s, StateMachines.For(EntityKind.Transaction).States),
            [(typeof(EventResponse), "type")] = s => OneOf(s, Events.EventTypes.All.Order(StringComparer.Ordinal)),
            // Seed 000's form, not ISO 8601: what the point endpoints receive.
            [(typeof(PaymentIntentResponse), "created_at")] = s =>
            {
                s.Pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";
                s.Description = "When the intent was made, in UTC, as seed 000 writes it: yyyy-MM-dd HH:mm:ss.";
            },
            [(typeof(RecoverRequest), "since")] = s => s.Type = JsonSchemaType.String,
            // An example of a type no format sends is refused: the endpoint's own format narrows it further.
            [(typeof(TestRequest), "event_type")] = s => OneOf(s, NotifiedTypes),
            [(typeof(EndpointResponse), "headers")] = s => s.Description =
                $"The endpoint's own headers; one that carries a credential (Authorization, X-Api-Key, ...) reads {HiddenHeaders.Shown}, which given back keeps its value.",
        };
        // A transition's state, among its kind's.
        foreach (var kind in EntityKinds.All)
        {
            var states = StateMachines.For(kind).TargetSpellings.ToArray();
            rules[(EntitiesApi.TransitionShape(kind), "to")] = s => OneOf(s, states);
        }
        // Where a webhook is sent: a merchant's endpoint, an operator's, a preference's.
        foreach (var body in new[] { typeof(CreateEndpointRequest), typeof(UpdateEndpointRequest), typeof(CreateOperatorEndpointRequest), typeof(UpdateOperatorEndpointRequest) })
        {
            rules[(body, "url")] = Url;
            rules[(body, "headers")] = Headers;
        }
        rules[(typeof(CustomUrls), "status_changes_webhook")] = Url;
        rules[(typeof(AdditionalInfo), "ticket_number")] = s => s.MaxLength = Validation.MaxShortText;
        rules[(typeof(CreatePaymentOrderRequest), "preference_id")] = s => s.MaxLength = Validation.MaxShortText;
        // An endpoint's settings, made or changed.
        foreach (var body in new[] { typeof(CreateEndpointRequest), typeof(UpdateEndpointRequest) })
        {
            rules[(body, "event_types")] = s =>
            {
                ItemsOneOf(s, NotifiedTypes);
                s.MaxItems = Validation.MaxListEntries;
            };
            rules[(body, "success")] = s => OneOf(s, SuccessRuleNames);
            rules[(body, "retry")] = s => OneOf(s, RetryPolicyNames);
            rules[(body, "timeout_seconds")] = s => Between(s, 1, EndpointsApi.MaxTimeoutSeconds);
            rules[(body, "max_concurrency")] = s => Between(s, 0, EndpointsApi.MaxConcurrencyCap);
            rules[(body, "rate_limit")] = s => Between(s, 0, EndpointsApi.RateLimitCap);
        }
        return rules;
    }

    /// <summary>
    /// The bodies (and the parts of them) whose every text Herald holds to <see cref="Validation.MaxText"/>
    /// characters (<see cref="Validation.Text"/>, <see cref="Validation.Bounded"/>), but where a rule above says less.
    /// </summary>
    private static readonly HashSet<Type> TextBounded =
    [
        typeof(CreateEndpointRequest), typeof(UpdateEndpointRequest), typeof(CreateOperatorEndpointRequest), typeof(UpdateOperatorEndpointRequest),
        typeof(CreatePreferenceRequest), typeof(CreatePaymentOrderRequest), typeof(PaymentOrderData), typeof(AdditionalInfo), typeof(PaymentInfo),
        typeof(TransactionDocument), typeof(SeedCustomer), typeof(SeedAddress), typeof(SeedIdentify), typeof(SeedOrderDetail),
    ];

    /// <summary>The fields a body must have beyond those its type makes required.</summary>
    private static readonly Dictionary<Type, string[]> Required = new()
    {
        [typeof(TransactionDocument)] = ["currency", "paymentAmount"],
        [typeof(RecoverRequest)] = ["since"],
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type == typeof(decimal))
        {
            schema.Format = "decimal";
        }
        if (context.JsonPropertyInfo is { DeclaringType: var declaring, Name: var name } && Fields.TryGetValue((declaring, name), out var rule))
        {
            rule(schema);
        }
        // A text with no rule of its own but its length: a client refuses one too long before Herald does.
        if (context.JsonPropertyInfo is { DeclaringType: var owner, PropertyType: var propertyType } && propertyType == typeof(string)
            && TextBounded.Contains(owner) && schema is { MaxLength: null, Pattern: null, Enum: null or { Count: 0 } })
        {
            schema.MaxLength = Validation.MaxText;
        }
        if (context.JsonPropertyInfo is null && Required.TryGetValue(type, out var required))
        {
            schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in required)
            {
                schema.Required.Add(field);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// A preference's items and custom URLs are answered as given (a list of objects, the object
    /// of its URLs), not as any JSON: the schemas of JSON values in general are shared, so these
    /// two are written in their place in the preference's own schema.
    /// </summary>
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        if (document.Components?.Schemas is { } schemas && schemas.TryGetValue(nameof(PreferenceResponse), out var preference)
            && preference is OpenApiSchema { Properties: { } properties })
        {
            properties["items"] = new OpenApiSchema { Type = JsonSchemaType.Array | JsonSchemaType.Null, Items = AnyObject() };
            properties["custom_urls"] = new OpenApiSchema
            {
                OneOf = [new OpenApiSchema { Type = JsonSchemaType.Null }, new OpenApiSchemaReference(nameof(CustomUrls), document)],
            };
        }
        // A preference is made with its items as objects (any other item is refused), at most 100 of them.
        if (document.Components?.Schemas is { } made && made.TryGetValue(nameof(CreatePreferenceRequest), out var create)
            && create is OpenApiSchema { Properties: { } fields })
        {
            fields["items"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array | JsonSchemaType.Null,
                MaxItems = Validation.MaxListEntries,
                Items = AnyObject(),
            };
        }
        if (document.Components?.Schemas is { } components)
        {
            // An event's data: the entity as it was, any of its fields.
            if (components.TryGetValue(nameof(JsonObject), out var data) && data is OpenApiSchema { Properties: null or { Count: 0 } } open)
            {
                open.AdditionalProperties = new OpenApiSchema();
            }
            // The schemas of JSON values in general, which only the two fields above referred to.
            components.Remove(nameof(JsonNode));
            components.Remove(nameof(JsonArray));
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// An object of any fields. Said outright (additionalProperties: {}): openapi-typescript reads an
    /// object schema that lists no fields as one that may hold none (Record&lt;string, never&gt;).
    /// </summary>
    private static OpenApiSchema AnyObject() => new() { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema() };

    /// <summary>The query's rules: a list's page size, the status and event type notifications are listed by.</summary>
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (parameter.In != ParameterLocation.Query || parameter.Schema is not OpenApiSchema schema)
            {
                continue;
            }
            switch (parameter.Name)
            {
                case "limit":
                    Between(schema, 1, Validation.MaxLimit);
                    schema.Default = Validation.DefaultLimit;
                    break;
                case "status":
                    OneOf(schema, NotificationStatuses.All);
                    break;
                case "event_type":
                    // One no format sends (a Point intent's OPEN) is refused, as no notification has it.
                    OneOf(schema, NotifiedTypes);
                    break;
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>The values a field takes; null too where the field may be null (left as it is).</summary>
    internal static void OneOf(OpenApiSchema schema, IEnumerable<string> values)
    {
        var taken = values.Select(v => (JsonNode?)JsonValue.Create(v)).ToList();
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.Null))
        {
            taken.Add(null);
        }
        schema.Enum = taken!;
    }

    private static void ItemsOneOf(OpenApiSchema schema, IEnumerable<string> values)
    {
        if (schema.Items is OpenApiSchema items)
        {
            OneOf(items, values);
        }
    }

    private static void Between(OpenApiSchema schema, int minimum, int maximum) =>
        (schema.Minimum, schema.Maximum) = (minimum.ToString(System.Globalization.CultureInfo.InvariantCulture), maximum.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>An amount: more than nothing.</summary>
    private static void AboveZero(OpenApiSchema schema) => schema.ExclusiveMinimum = "0";

    /// <summary>The schema, null no longer among its types.</summary>
    private static OpenApiSchema NotNull(OpenApiSchema schema)
    {
        if (schema.Type is { } type)
        {
            schema.Type = type & ~JsonSchemaType.Null;
        }
        return schema;
    }

    /// <summary>
    /// Where a webhook is sent: an absolute http or https address, as long as Herald keeps. What else
    /// <see cref="Validation.EndpointUrl"/> refuses (plain http outside development, credentials, a
    /// fragment, an address Herald may not connect to) is said, not patterned.
    /// </summary>
    private static void Url(OpenApiSchema schema)
    {
        schema.MaxLength = Validation.MaxUrlLength;
        schema.Pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[^#]+$";
        schema.Description = "An absolute URL: https (http too when Herald runs in development), without credentials (user:password@) or a fragment (#...); "
            + "a literal address must be one Herald may connect to (not loopback, private or link-local, unless the operator allows its network).";
    }

    /// <summary>An endpoint's headers of its own, as <see cref="Validation.EndpointHeaders"/> takes them.</summary>
    private static void Headers(OpenApiSchema schema)
    {
        schema.MaxProperties = Validation.MaxHeaders;
        schema.AdditionalProperties = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            MaxLength = Validation.MaxHeaderValue,
            // Printable ASCII, spaces and tabs: no line break.
            Pattern = "^[\\t -~]*$",
        };
        schema.Description = $"Headers sent with every request: names of 1 to {Validation.MaxHeaderName} letters, digits and !#$%&'*+-.^_`|~, "
            + "none Herald sets itself (webhook-*, User-Agent, Content-Type, trace context) nor HTTP's framing, none twice in any case.";
    }

    private static void Currency(OpenApiSchema schema)
    {
        schema.Pattern = "^[A-Z]{3}$";
        schema.Description = "A three-letter ISO 4217 code of a currency in use, such as BRL.";
    }

    private static void Country(OpenApiSchema schema)
    {
        schema.Pattern = "^[A-Z]{2}$";
        schema.Description = "A two-letter ISO 3166-1 country code, such as BR.";
    }
}
