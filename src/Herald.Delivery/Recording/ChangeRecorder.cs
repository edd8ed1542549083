using System.Text.Json.Nodes;
using Herald.Delivery.Workers;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Errors;
using Herald.Events;
using Herald.Ids;
using Herald.Payloads;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Delivery.Recording;

/// <summary>
/// Records payment state changes: checks the state machine, makes the event, renders one
/// notification per endpoint that wants it, and writes all of it in one transaction. This is the
/// only way changes enter Herald, whether from the API, the CLI or the benchmark.
/// </summary>
public sealed class ChangeRecorder
{
    /// <summary>What a request whose Idempotency-Key an earlier, different request used is told (422).</summary>
    public const string KeyUsedElsewhere = "this Idempotency-Key was already used with a different request";

    /// <summary>What a request whose key another request took, its work not readable yet, is told (409).</summary>
    public const string KeyUnderWay = "another request with this Idempotency-Key was under way; try again";

    private const int MaxConflictRetries = 8;

    private readonly IHeraldStore _store;
    private readonly StoreWriter _writer;
    private readonly TimeProvider _time;

    public ChangeRecorder(IHeraldStore store, StoreWriter writer, TimeProvider time)
    {
        _store = store;
        _writer = writer;
        _time = time;
    }

    /// <summary>
    /// Records a new entity, born in its kind's initial state, and its first event. With an
    /// idempotency key, a repeated call answers with the entity the first call made, as it was born,
    /// and records nothing: a retry after a timeout does not make a second one.
    /// </summary>
    /// <param name="merchantId">The owner.</param>
    /// <param name="kind">The entity kind.</param>
    /// <param name="id">The new entity's id.</param>
    /// <param name="document">Its document, without the state field (which is set here). The recorder takes it over as the entity's document: the caller must not change it afterwards.</param>
    /// <param name="preferenceId">For payment orders: the checkout preference it was made from.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <param name="idempotency">The caller's key and the hash of what it asked for, when given.</param>
    public async Task<Recorded> CreateAsync(string merchantId, EntityKind kind, string id, JsonObject document, string? preferenceId, CancellationToken cancellationToken,
        (string Key, string RequestHash)? idempotency = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        using var activity = DeliveryTelemetry.StartRecording(kind.ApiName(), id);
        if (idempotency is { } key && await ReplayAsync(merchantId, kind, null, key, null, cancellationToken).ConfigureAwait(false) is { } replay)
        {
            return replay;
        }
        var now = _time.GetUtcNow();
        var state = StateMachines.For(kind).Initial;
        // Every caller builds the document for this call alone: it is kept, not copied.
        var doc = document;
        doc[EntityDocuments.StateField(kind)] = state;
        var entity = new Entity(kind, id, merchantId, state, 1, preferenceId, doc, now, now);
        var evt = NewEvent(entity, null, now);
        var change = await NewChangeAsync(entity, 0, evt, preferenceId, idempotency, activity?.Id, bringsContent: true, cancellationToken).ConfigureAwait(false);
        var result = await _writer.CommitAsync(change).ConfigureAwait(false);
        if (result == CommitResult.IdempotencyKeyTaken && idempotency is { } taken)
        {
            // A retry under the same key got there first (on another node, or in the same batch): answered as it was.
            return await ReplayAsync(merchantId, kind, null, taken, null, cancellationToken).ConfigureAwait(false)
                ?? throw new HeraldException(ErrorKind.Conflict, KeyUnderWay);
        }
        if (result != CommitResult.Committed)
        {
            throw new HeraldException(ErrorKind.Conflict, $"{kind.ApiName()} {id} already exists");
        }
        return new Recorded(entity, evt, change.Notifications.Count, Replayed: false);
    }

    /// <summary>
    /// Moves an entity to <paramref name="to"/>, merging <paramref name="data"/> into its document
    /// and then, when given, putting the result back in its kind's shape with <paramref name="reshape"/>.
    /// With an idempotency key, a repeated call answers with the change the first call made: one whose
    /// request hash is the key's, or one of <paramref name="earlierHashes"/> (what earlier releases
    /// recorded for the same request).
    /// </summary>
    public async Task<Recorded> TransitionAsync(string merchantId, EntityKind kind, string id, string to, JsonObject? data,
        (string Key, string RequestHash)? idempotency, CancellationToken cancellationToken, Func<JsonObject, JsonObject>? reshape = null,
        IReadOnlyCollection<string>? earlierHashes = null)
    {
        using var activity = DeliveryTelemetry.StartRecording(kind.ApiName(), id);
        var machine = StateMachines.For(kind);
        var target = machine.Target(to);
        for (var round = 0; round < MaxConflictRetries; round++)
        {
            if (idempotency is { } key && await ReplayAsync(merchantId, kind, id, key, earlierHashes, cancellationToken).ConfigureAwait(false) is { } replay)
            {
                return replay;
            }
            var current = await _store.GetEntityAsync(merchantId, kind, id, cancellationToken).ConfigureAwait(false)
                ?? throw HeraldException.NotFound(kind.ApiName(), id);
            if (!machine.CanMove(current.State, target))
            {
                // A retry under the same key may have committed this very move between the key's
                // look-up above and the entity's read: the state read then is the one it made.
                if (idempotency is { } late && await ReplayAsync(merchantId, kind, id, late, earlierHashes, cancellationToken).ConfigureAwait(false) is { } replayed)
                {
                    return replayed;
                }
                var why = machine.IsFinal(current.State) ? $"; {current.State} is final" : "";
                throw new HeraldException(ErrorKind.Conflict, $"cannot move {kind.ApiName()} from {current.State} to {target}{why}");
            }
            var now = _time.GetUtcNow();
            var doc = EntityDocuments.WithChange(kind, current.Document, target, data, now);
            if (data is not null && reshape is not null)
            {
                doc = reshape(doc);
            }
            var next = current with { State = target, Version = current.Version + 1, Document = doc, UpdatedAt = now };
            var evt = NewEvent(next, current.State, now);
            var change = await NewChangeAsync(next, current.Version, evt, current.PreferenceId, idempotency, activity?.Id, bringsContent: data is not null, cancellationToken).ConfigureAwait(false);
            var result = await _writer.CommitAsync(change).ConfigureAwait(false);
            if (result == CommitResult.Committed)
            {
                return new Recorded(next, evt, change.Notifications.Count, Replayed: false);
            }
            // A concurrent change won the race (or took the idempotency key): decide again.
        }
        throw new HeraldException(ErrorKind.Conflict, $"{kind.ApiName()} {id} is changing too often; try again");
    }

    /// <summary>
    /// The change a key already made, when it was made by this request: the same hash, and the same
    /// entity's transition (<paramref name="id"/>) or, without an id, the same kind's creation. A key
    /// is the merchant's, one request's whatever the route: used for another, it is refused (422).
    /// </summary>
    private async Task<Recorded?> ReplayAsync(string merchantId, EntityKind kind, string? id, (string Key, string RequestHash) key,
        IReadOnlyCollection<string>? earlierHashes, CancellationToken cancellationToken)
    {
        var existing = await _store.FindIdempotencyKeyAsync(merchantId, key.Key, cancellationToken).ConfigureAwait(false);
        if (existing is not { } found)
        {
            return null;
        }
        if (!HeraldId.HasPrefix(found.EventId, HeraldId.Event))
        {
            // The key made an endpoint or a checkout preference.
            throw new HeraldException(ErrorKind.Unprocessable, KeyUsedElsewhere);
        }
        var evt = await _store.GetEventAsync(merchantId, found.EventId, cancellationToken).ConfigureAwait(false);
        if (evt is null)
        {
            // Purged by the retention since the key was read, the key with it: a request made anew.
            return null;
        }
        var same = found.RequestHash == key.RequestHash || earlierHashes?.Contains(found.RequestHash) == true;
        var sameTarget = evt.EntityKind == kind && (id is null ? evt.FromState is null : evt.EntityId == id);
        if (!same || !sameTarget)
        {
            throw new HeraldException(ErrorKind.Unprocessable, KeyUsedElsewhere);
        }
        var snapshot = new Entity(kind, evt.EntityId, merchantId, evt.ToState, evt.Version, null, evt.Snapshot, evt.OccurredAt, evt.OccurredAt);
        return new Recorded(snapshot, evt, 0, Replayed: true);
    }

    private EntityEvent NewEvent(Entity entity, string? from, DateTimeOffset now) => new(
        HeraldId.New(HeraldId.Event, _time), entity.MerchantId, entity.Kind, entity.Id,
        EventTypes.For(entity.Kind, entity.State), from, entity.State, entity.Version, now, entity.Document);

    /// <summary>
    /// The change, with a notification for each endpoint that wants its event; refused (413, nothing
    /// written) when the entity's document is over <see cref="EntityDocuments.MaxDocumentBytes"/>.
    /// </summary>
    private async ValueTask<EntityChange> NewChangeAsync(Entity entity, int expectedVersion, EntityEvent evt, string? preferenceId,
        (string Key, string RequestHash)? idempotency, string? traceParent, bool bringsContent, CancellationToken cancellationToken)
    {
        // The document's text is written once: measured here, then stored, and sent where the body is the snapshot.
        var json = JsonText.Of(entity.Document);
        // What a request filled (a creation, a transition's data) keeps room for the kind's longest
        // state; a move without data is held to the bound alone, and fits, having that room.
        EntityDocuments.RefuseOversized(entity.Kind, entity.Document, json, bringsContent ? StateMachines.For(entity.Kind).Longest : null);
        var notifications = await RenderAsync(evt, preferenceId, json, cancellationToken).ConfigureAwait(false);
        var change = new EntityChange(entity, expectedVersion, evt, notifications, idempotency, traceParent);
        change.UseRenderedJson(json);
        return change;
    }

    /// <summary>The event's notifications, sharing one body; <paramref name="snapshotJson"/> is the body of a format that sends the snapshot.</summary>
    private async ValueTask<IReadOnlyList<NewNotification>> RenderAsync(EntityEvent evt, string? preferenceId, string snapshotJson, CancellationToken cancellationToken)
    {
        var format = PayloadFormats.For(evt.EntityKind);
        if (!format.Notifies(evt.ToState))
        {
            return [];
        }
        var endpoints = await _store.ListEndpointsForFormatAsync(evt.MerchantId, format, cancellationToken).ConfigureAwait(false);
        // The preferences at one URL share its endpoint: which one is the preference's webhook is read
        // from the preference, and only when there is an endpoint a preference made to choose from.
        var webhook = preferenceId is not null && endpoints.Any(e => e.PreferenceId is not null)
            ? await _store.PreferenceEndpointIdAsync(evt.MerchantId, preferenceId, cancellationToken).ConfigureAwait(false)
            : null;
        List<NewNotification>? result = null;
        string? payload = null;
        foreach (var endpoint in endpoints)
        {
            if (!endpoint.Wants(evt.Type, webhook))
            {
                continue;
            }
            payload ??= PayloadRenderer.SendsSnapshot(format) ? snapshotJson : PayloadRenderer.RenderText(format, evt);
            (result ??= []).Add(new NewNotification(HeraldId.New(HeraldId.Notification, _time), endpoint.Id, payload,
                Immediate: endpoint.Enabled && !endpoint.Ordered, Parked: !endpoint.Enabled));
        }
        return result ?? (IReadOnlyList<NewNotification>)[];
    }
}

/// <summary>A recorded change: the entity after it, its event, and how many notifications it made.</summary>
public sealed record Recorded(Entity Entity, EntityEvent Event, int Notifications, bool Replayed);
