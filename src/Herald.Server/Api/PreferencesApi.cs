using System.Text.Json.Nodes;
using Herald.Delivery;
using Herald.Entities;
using Herald.Errors;
using Herald.Ids;
using Herald.Server.Auth;
using Herald.Server.Json;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Endpoint = Herald.Storage.Model.Endpoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Server.Api;

internal static class PreferencesApi
{
    public static void MapPreferences(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/checkout_preferences").WithTags("Checkout preferences");

        group.MapPost("", async (HttpContext http, IHeraldStore store, TimeProvider time, IOptions<DeliveryOptions> delivery) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var key = IdempotencyKeyHeader.Read(http.Request);
            var request = await HeraldJson.ReadAsync<CreatePreferenceRequest>(http.Request);
            var idempotency = IdempotencyKeyHeader.ForCreate(key, "checkout_preference", request);
            var made = await IdempotencyKeyHeader.CreateOnceAsync(store, merchant, idempotency,
                () => CreateAsync(store, merchant, request, time, delivery.Value, idempotency, http.RequestAborted),
                id => ReplayAsync(store, merchant, id, http.RequestAborted),
                http.RequestAborted);
            return JsonResults.Created(made.Id, made);
        })
        .Accepts<CreatePreferenceRequest>("application/json")
        .Produces<PreferenceResponse>(StatusCodes.Status201Created)
        .WithMetadata(new IdempotencyKeyHeader())
        .WithName("createCheckoutPreference")
        .Refuses(StatusCodes.Status409Conflict, "the Idempotency-Key made a checkout preference gone since")
        .Refuses(StatusCodes.Status409Conflict, EntitiesApi.KeyUnderWay)
        .Refuses(StatusCodes.Status413PayloadTooLarge, $"the preference, as it would be stored, over {EntityDocuments.MaxDocumentBytes / 1024} KB")
        .WithSummary("Create a checkout preference; custom_urls.status_changes_webhook receives its orders' thin events, signed with the secret answered here. The preferences at one URL share its endpoint (endpoint_id) and its secret: a preference made at the URL of an earlier one's webhook is answered that endpoint's current secret, and makes no other. An Idempotency-Key header makes a retried call safe: it answers the preference the first call made.");

        group.MapGet("", async (HttpContext http, IHeraldStore store, int? limit, string? starting_after, string? ending_before) =>
        {
            var take = ListPaging.Take(limit, starting_after, ending_before, HeraldId.CheckoutPreference, "a checkout preference");
            var page = await ListAsync(store, Caller.Of(http).Merchant, take, starting_after, ending_before, http.RequestAborted);
            return JsonResults.Ok(ListPaging.Of(page, p => PreferenceResponse.From(p)));
        })
        .Produces<ListResponse<PreferenceResponse>>()
        .WithName("listCheckoutPreferences")
        .WithSummary("The merchant's checkout preferences, newest first, each with its webhook as its endpoint has it now; starting_after (the last id) for the older page, ending_before (the first id) for the newer one.");

        group.MapGet("/{id}", async (string id, HttpContext http, IHeraldStore store) =>
        {
            var merchant = Caller.Of(http).Merchant;
            var preference = await store.GetPreferenceAsync(merchant, id, http.RequestAborted)
                ?? throw HeraldException.NotFound("checkout preference", id);
            return JsonResults.Ok(PreferenceResponse.From(await WithWebhookAsync(store, preference, http.RequestAborted)));
        })
        .Produces<PreferenceResponse>()
        .WithName("getCheckoutPreference")
        .WithSummary("One checkout preference.");
    }

    /// <summary>One page of the merchant's preferences, each with its webhook as it reads now (<see cref="WithWebhookAsync"/>).</summary>
    public static async Task<Page<CheckoutPreference>> ListAsync(IHeraldStore store, string merchant, int limit, string? startingAfter, string? endingBefore,
        CancellationToken cancellationToken)
    {
        var page = await store.ListPreferencesAsync(merchant, limit, startingAfter, endingBefore, cancellationToken);
        // Each webhook read by its endpoint's id, as one preference's is: a page costs what it
        // shows, not the merchant's every endpoint (one a webhook URL its preferences named).
        var read = new List<CheckoutPreference>(page.Data.Count);
        foreach (var preference in page.Data)
        {
            read.Add(await WithWebhookAsync(store, preference, cancellationToken));
        }
        return page with { Data = read };
    }

    /// <summary>
    /// The preference as it reads now: its webhook is its endpoint's URL as the endpoint has it
    /// (changed since, or none once the endpoint is deleted, and then no endpoint id either, which
    /// would only answer 404), not as the preference was made with; the endpoint read by its id.
    /// </summary>
    private static async Task<CheckoutPreference> WithWebhookAsync(IHeraldStore store, CheckoutPreference preference, CancellationToken cancellationToken)
    {
        if (preference.EndpointId is not { } id)
        {
            return preference;
        }
        return WithWebhook(preference, await store.GetEndpointAsync(preference.MerchantId, id, cancellationToken));
    }

    /// <summary>The preference with its webhook as <paramref name="endpoint"/>, its endpoint read now (null: deleted), has it.</summary>
    private static CheckoutPreference WithWebhook(CheckoutPreference preference, Endpoint? endpoint)
    {
        var document = (JsonObject)preference.Document.DeepClone();
        document["custom_urls"] = new JsonObject { ["status_changes_webhook"] = endpoint?.Url };
        return preference with { Document = document, EndpointId = endpoint?.Id };
    }

    /// <summary>
    /// What a create retried with its Idempotency-Key answers: the preference the first call made, as
    /// it reads now, with its webhook endpoint's signing secret (the newest, if rotated since).
    /// </summary>
    private static async Task<PreferenceResponse> ReplayAsync(IHeraldStore store, string merchant, string id, CancellationToken cancellationToken)
    {
        var preference = await store.GetPreferenceAsync(merchant, id, cancellationToken)
            ?? throw new HeraldException(ErrorKind.Conflict, $"this Idempotency-Key made checkout preference {id}, which is gone");
        return await WithSecretAsync(store, preference, cancellationToken);
    }

    /// <summary>
    /// The preference as it reads now, with the newest signing secret of its webhook's endpoint: one
    /// that an earlier preference at the URL made (whose secret may have been rotated since), or none
    /// once that endpoint is deleted.
    /// </summary>
    private static async Task<PreferenceResponse> WithSecretAsync(IHeraldStore store, CheckoutPreference preference, CancellationToken cancellationToken)
    {
        if (preference.EndpointId is not { } id)
        {
            return PreferenceResponse.From(preference);
        }
        // Read once: its URL for the webhook, its newest secret for the answer.
        var endpoint = await store.GetEndpointAsync(preference.MerchantId, id, cancellationToken);
        return PreferenceResponse.From(WithWebhook(preference, endpoint), endpoint?.Secrets.FirstOrDefault());
    }

    /// <summary>
    /// Saves a preference and, when it names a webhook, the endpoint that receives its orders'
    /// events: the one an earlier preference of the merchant made at that URL, not deleted, which the
    /// preferences at a URL share, or else a new one. Answers it with that endpoint's signing secret
    /// (the newest, when the shared one's was rotated): every preference at a URL is answered the one
    /// secret its receiver verifies them all with. With <paramref name="idempotency"/>, null when an
    /// earlier request took the key (nothing made).
    /// </summary>
    public static async Task<PreferenceResponse?> CreateAsync(IHeraldStore store, string merchant, CreatePreferenceRequest request,
        TimeProvider time, DeliveryOptions delivery, (string Key, string RequestHash)? idempotency, CancellationToken cancellationToken)
    {
        var id = HeraldId.New(HeraldId.CheckoutPreference, time);
        var webhook = request.CustomUrls?.StatusChangesWebhook;
        Endpoint? endpoint = null;
        if (webhook is not null && string.IsNullOrWhiteSpace(webhook))
        {
            throw new HeraldException(ErrorKind.BadRequest,
                "custom_urls.status_changes_webhook is empty: give the URL that receives the orders' notifications, or leave it out (or null) for a preference without one");
        }
        if (webhook is not null)
        {
            // Seed 001: the preference's webhook receives the thin events of the orders made from it.
            // Checked first under its own name: a refusal names the field the platform sent.
            webhook = Validation.EndpointUrl(webhook, delivery, "custom_urls.status_changes_webhook");
            endpoint = EndpointsApi.NewEndpoint(merchant, new CreateEndpointRequest(webhook, "thin"),
                EndpointSources.CheckoutPreference, id, time, delivery);
        }
        // A list of items, each an object (seed 001's title, quantity, unit_price and whatever else the platform keeps).
        if (request.Items?.Any(item => item is not JsonObject) == true)
        {
            throw new HeraldException(ErrorKind.BadRequest, "items must be a list of objects");
        }
        Validation.Bounded(request.Items, "items");
        var document = new JsonObject
        {
            ["custom_urls"] = new JsonObject { ["status_changes_webhook"] = endpoint?.Url },
            ["external_reference"] = Validation.Text(request.ExternalReference, "external_reference"),
            ["items"] = request.Items?.DeepClone(),
        };
        EntityDocuments.RefuseOversizedPreference(document);
        var preference = new CheckoutPreference(id, merchant, document, endpoint?.Id, time.GetUtcNow());
        return await store.CreatePreferenceAsync(preference, endpoint, idempotency, cancellationToken) switch
        {
            null => null,
            var saved when endpoint is not null && saved.EndpointId == endpoint.Id => PreferenceResponse.From(saved, endpoint.Secrets[0]),
            // Without a webhook, or sharing the endpoint at its URL.
            var saved => await WithSecretAsync(store, saved, cancellationToken),
        };
    }
}
