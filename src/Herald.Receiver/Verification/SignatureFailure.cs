namespace Herald.Receiver.Verification;

/// <summary>Why a request's signature was not accepted; see <see cref="SignatureCheck"/>.</summary>
public enum SignatureFailure
{
    /// <summary>
    /// None of the configured secrets can sign: none is set, or each is a placeholder or otherwise
    /// not a <c>whsec_</c> secret. Every request is refused until a real one is configured.
    /// </summary>
    NoUsableSecret,

    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c> or <c>webhook-signature</c> is missing or empty.</summary>
    MissingHeaders,

    /// <summary><c>webhook-timestamp</c> is not unix seconds written as Herald writes them (plain digits).</summary>
    MalformedTimestamp,

    /// <summary>The timestamp is further in the past than the tolerance allows: a replay, or a clock behind.</summary>
    TimestampTooOld,

    /// <summary>The timestamp is further in the future than the tolerance allows: the sender's clock is ahead.</summary>
    TimestampTooNew,

    /// <summary>
    /// No <c>v1</c> signature in <c>webhook-signature</c> matches any configured secret: a wrong or
    /// outdated secret, a body changed on the way, or a request Herald did not send.
    /// </summary>
    NoMatchingSignature,
}
