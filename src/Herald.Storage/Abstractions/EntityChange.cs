using Herald.Events;
using Herald.Storage.Model;

namespace Herald.Storage.Abstractions;

/// <summary>One state change to write atomically.</summary>
/// <param name="Entity">The entity at its new version.</param>
/// <param name="ExpectedVersion">The version it had when the change was decided; 0 for a new entity.</param>
/// <param name="Event">The event of the change.</param>
/// <param name="Notifications">One per endpoint that wants the event.</param>
/// <param name="IdempotencyKey">The caller's key and the hash of its request, when given.</param>
/// <param name="TraceParent">The W3C trace context of the recording, carried to each delivery.</param>
public sealed record EntityChange(
    Entity Entity,
    int ExpectedVersion,
    EntityEvent Event,
    IReadOnlyList<NewNotification> Notifications,
    (string Key, string RequestHash)? IdempotencyKey,
    string? TraceParent = null)
{
    // Shared with the change's copies, and equal to every other: the record's equality stays that of its parameters.
    private readonly RenderedTexts _texts = new();

    /// <summary>The entity's document as JSON text (<see cref="JsonText"/>), written once (the document must not change after the change is made).</summary>
    public string DocumentJson() => _texts.Of(Entity.Document, Event.Snapshot).Document;

    /// <summary>The event's snapshot as JSON text (the document's own text when they are one object).</summary>
    public string SnapshotJson() => _texts.Of(Entity.Document, Event.Snapshot).Snapshot;

    /// <summary>
    /// Gives the text of the entity's document, when the document is also the event's snapshot (one
    /// object), already written by the caller through <see cref="JsonText"/>: it is kept instead of
    /// being written again. Ignored when the two are different objects or a text is kept already.
    /// </summary>
    public void UseRenderedJson(string json) => _texts.Seed(Entity.Document, Event.Snapshot, json);
}
