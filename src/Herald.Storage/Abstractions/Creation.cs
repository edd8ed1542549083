namespace Herald.Storage.Abstractions;

/// <summary>How a create that may be bounded, or keyed by the caller's Idempotency-Key, ended.</summary>
public enum Creation
{
    Created,

    /// <summary>The merchant has as many as it may have already; nothing written.</summary>
    AtLimit,

    /// <summary>The caller's key was taken by an earlier request; nothing written: answer from what that one made.</summary>
    KeyTaken,
}
