namespace Herald.Storage.Abstractions;

public enum CommitResult
{
    Committed,

    /// <summary>Another change got there first; decide again on the current version.</summary>
    VersionConflict,

    /// <summary>The idempotency key was taken meanwhile; answer from the event it produced.</summary>
    IdempotencyKeyTaken,
}
