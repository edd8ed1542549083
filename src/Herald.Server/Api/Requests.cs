using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Herald.Server.Api;

// Request bodies. Unknown fields are refused; optional fields are nullable.

public sealed record CreateMerchantRequest(string Name);

public sealed record CreateEndpointRequest(
    string Url,
    string Format,
    string? Description = null,
    IReadOnlyList<string>? EventTypes = null,
    string? Success = null,
    string? Retry = null,
    int? TimeoutSeconds = null,
    bool? Ordered = null,
    int? MaxConcurrency = null,
    int? RateLimit = null,
    IReadOnlyDictionary<string, string?>? Headers = null);

public sealed record UpdateEndpointRequest(
    string? Url = null,
    string? Description = null,
    IReadOnlyList<string>? EventTypes = null,
    string? Success = null,
    string? Retry = null,
    int? TimeoutSeconds = null,
    bool? Ordered = null,
    bool? Enabled = null,
    int? MaxConcurrency = null,
    int? RateLimit = null,
    IReadOnlyDictionary<string, string?>? Headers = null);

public sealed record CreateOperatorEndpointRequest(string Url, string? Description = null, IReadOnlyDictionary<string, string?>? Headers = null);

/// <summary>A change of an operator webhook: what it has of a merchant's endpoint's settings (a field left out, or null, stays as it is).</summary>
public sealed record UpdateOperatorEndpointRequest(string? Url = null, string? Description = null, IReadOnlyDictionary<string, string?>? Headers = null);

public sealed record CustomUrls(string? StatusChangesWebhook = null);

public sealed record CreatePreferenceRequest(
    CustomUrls? CustomUrls = null,
    string? ExternalReference = null,
    JsonArray? Items = null);

public sealed record CreatePaymentOrderRequest(
    decimal Amount,
    string Currency,
    string? PreferenceId = null,
    string? ExternalReference = null,
    string? Description = null);

/// <summary>The fields a payment order's transition may change.</summary>
public sealed record PaymentOrderData(string? ExternalReference = null, string? Description = null);

public sealed record AdditionalInfo(string? ExternalReference = null, string? TicketNumber = null);

public sealed record CreatePaymentIntentRequest(
    decimal Amount,
    string Site,
    long ClientId,
    long CallerId,
    AdditionalInfo? AdditionalInfo = null);

public sealed record PaymentInfo(long Id, string State, string Type);

/// <summary>The fields a payment intent's transition may carry: the payment, when it finishes.</summary>
public sealed record PaymentIntentData(PaymentInfo? Payment = null);

public sealed record TransitionRequest(string To, JsonObject? Data = null);

// What each kind's transition takes, for the API's document (the body is read as a TransitionRequest,
// its data checked by the kind).

public sealed record PaymentIntentTransition(string To, PaymentIntentData? Data = null);

public sealed record PaymentOrderTransition(string To, PaymentOrderData? Data = null);

/// <summary>A transaction's data holds the fields of its document that change (seed 003's names), never its internalId or status.</summary>
public sealed record TransactionTransition(string To, JsonObject? Data = null);

public sealed record RotateSecretRequest(int? GraceSeconds = null);

/// <summary>A new API key: <c>full</c> (the default) or <c>read</c> (GET only).</summary>
public sealed record CreateApiKeyRequest(string? Scope = null);

/// <summary>A portal sign-in link: how long it may be used (<see cref="Portal.PortalLinks.DefaultExpiresInSeconds"/> seconds by default).</summary>
public sealed record CreatePortalLinkRequest(int? ExpiresInSeconds = null);

/// <summary>An endpoint's test: its own test body, or with <see cref="EventType"/> the example of that event type in the endpoint's format.</summary>
public sealed record TestRequest(string? EventType = null);

/// <summary>The body of a route that takes none: nothing, or an object without fields (<c>{}</c>).</summary>
public sealed record NoBodyRequest;

public sealed record RecoverRequest(string? Since = null);

/// <summary>Seed 003's address block.</summary>
public sealed record SeedAddress(
    string? Street = null,
    string? StreetNumber = null,
    string? Country = null,
    string? ZipCode = null,
    string? City = null,
    string? State = null);

public sealed record SeedIdentify(string? Number = null, string? Type = null);

public sealed record SeedCustomer(
    string? Name = null,
    string? Email = null,
    string? Phone = null,
    string? UserDevice = null,
    string? UserAgent = null,
    string? Ip = null,
    SeedAddress? Address = null,
    SeedIdentify? Identify = null);

public sealed record SeedOrderDetail(
    string? ProductName = null,
    int? Quantity = null,
    string? Dimensions = null,
    string? Description = null);

/// <summary>
/// Seed 003's transaction, field for field and in the seed's order. <c>internalId</c> and
/// <c>status</c> are Herald's to set.
/// </summary>
public sealed record TransactionDocument
{
    public string? InternalId { get; init; }
    public string? SessionId { get; init; }
    public string? MerchantName { get; init; }
    public string? UserId { get; init; }
    public string? Type { get; init; }
    public string? PaymentOptionName { get; init; }
    public string? Country { get; init; }
    public string? Currency { get; init; }
    public decimal? PaymentAmount { get; init; }
    public string? MerchantReference { get; init; }
    public string? Status { get; init; }
    public string? Language { get; init; }
    public string? PaymentReference { get; init; }
    public string? StoredToken { get; init; }
    public string? Extra1 { get; init; }
    public string? Extra2 { get; init; }
    public string? Extra3 { get; init; }
    public SeedCustomer? Customer { get; init; }
    public IReadOnlyList<SeedOrderDetail>? OrderDetails { get; init; }
    public SeedAddress? ShippingAddress { get; init; }

    [JsonIgnore]
    public static IReadOnlySet<string> Assigned { get; } = new HashSet<string>(StringComparer.Ordinal) { "internalId", "status" };
}
