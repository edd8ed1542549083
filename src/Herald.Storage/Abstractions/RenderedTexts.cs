using Herald.Payloads;

namespace Herald.Storage.Abstractions;

/// <summary>
/// A change's JSON texts, rendered for whoever asks first: the caller that hands the change to a
/// shared writer asks before it does, so that the writer, which every change waits for, need not.
/// Rendered again when asked for other objects (a copy of the change with another entity or event).
/// </summary>
internal sealed class RenderedTexts
{
    private Texts? _texts;

    public Texts Of(System.Text.Json.Nodes.JsonObject document, System.Text.Json.Nodes.JsonObject snapshot)
    {
        var texts = _texts;
        if (texts is null || !ReferenceEquals(texts.Source, document) || !ReferenceEquals(texts.SnapshotSource, snapshot))
        {
            var documentText = JsonText.Of(document);
            _texts = texts = new Texts(document, snapshot, documentText, ReferenceEquals(snapshot, document) ? documentText : JsonText.Of(snapshot));
        }
        return texts;
    }

    public void Seed(System.Text.Json.Nodes.JsonObject document, System.Text.Json.Nodes.JsonObject snapshot, string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (_texts is null && ReferenceEquals(document, snapshot))
        {
            _texts = new Texts(document, snapshot, json, json);
        }
    }

    public override bool Equals(object? obj) => obj is RenderedTexts;

    public override int GetHashCode() => 0;

    internal sealed record Texts(System.Text.Json.Nodes.JsonObject Source, System.Text.Json.Nodes.JsonObject SnapshotSource, string Document, string Snapshot);
}
