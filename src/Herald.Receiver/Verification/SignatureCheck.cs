using System.Globalization;
using System.Security.Cryptography;
using Herald.Signing;

namespace Herald.Receiver.Verification;

/// <summary>
/// The outcome of checking one request's Standard Webhooks signature, with the reason when it is
/// refused. A refusal says only what was wrong with the request or the configuration, never a
/// secret or the body, so its <see cref="Reason"/> may go to a log.
/// </summary>
public sealed class SignatureCheck
{
    private static readonly SignatureCheck Accepted = new(null, 0, 0, "");

    private readonly long _toleranceSeconds;
    private readonly string _missing;

    private SignatureCheck(SignatureFailure? failure, long skewSeconds, long toleranceSeconds, string missing)
    {
        Failure = failure;
        SkewSeconds = skewSeconds;
        _toleranceSeconds = toleranceSeconds;
        _missing = missing;
    }

    /// <summary>Whether the request is signed by one of the secrets, within the tolerance.</summary>
    public bool IsValid => Failure is null;

    /// <summary>Why the request was refused, or <c>null</c> when it is valid.</summary>
    public SignatureFailure? Failure { get; }

    /// <summary>
    /// How far the request's timestamp is behind the receiver's clock, in seconds (negative when it
    /// is ahead); 0 when the timestamp was not read.
    /// </summary>
    public long SkewSeconds { get; }

    /// <summary>The refusal in a few words, for a log or a developer's console; empty when valid.</summary>
    public string Reason => Failure switch
    {
        null => "",
        SignatureFailure.NoUsableSecret => "no usable secret is configured (none is set, or each is a placeholder or not a whsec_ secret)",
        SignatureFailure.MissingHeaders => "missing " + _missing,
        SignatureFailure.MalformedTimestamp => "webhook-timestamp is not unix seconds",
        SignatureFailure.TimestampTooOld => string.Create(CultureInfo.InvariantCulture,
            $"timestamp too old: {SkewSeconds} s behind this machine's clock (tolerance {_toleranceSeconds} s)"),
        SignatureFailure.TimestampTooNew => string.Create(CultureInfo.InvariantCulture,
            $"timestamp too new: {-SkewSeconds} s ahead of this machine's clock (tolerance {_toleranceSeconds} s)"),
        _ => "no signature matches the configured secrets",
    };

    /// <summary>
    /// Checks a request as Herald signs it: <paramref name="signature"/> (<c>webhook-signature</c>,
    /// one <c>v1,…</c> entry per signing secret) must hold a signature by any of
    /// <paramref name="secrets"/> over <c>{id}.{timestamp}.{body}</c>, and <paramref name="timestamp"/>
    /// must be within <paramref name="tolerance"/> of <paramref name="now"/>. When it is refused, the
    /// reason is found only then, so an accepted request costs no more than the check itself.
    /// </summary>
    /// <param name="secrets">The endpoint's secrets (<c>whsec_…</c>); empty entries are skipped.</param>
    /// <param name="webhookId">The <c>webhook-id</c> header.</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header.</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <param name="body">The raw body, as received.</param>
    /// <param name="now">The receiver's time.</param>
    /// <param name="tolerance">How far the timestamp may be from <paramref name="now"/>, either way.</param>
    public static SignatureCheck Verify(IEnumerable<string?> secrets, string? webhookId, string? timestamp, string? signature,
        ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        // A placeholder (whsec_…, changeme, whsec_xxx) never checks a signature: its value is public,
        // so a request signed with it would be a forgery that passes.
        var usable = secrets.Where(s => !string.IsNullOrWhiteSpace(s) && IsUsable(s)).Select(s => s!).ToArray();
        if (!string.IsNullOrEmpty(webhookId) && !string.IsNullOrEmpty(timestamp) && !string.IsNullOrEmpty(signature))
        {
            foreach (var secret in usable)
            {
                if (WebhookSignature.Verify(secret, webhookId, timestamp, signature, body, now, tolerance))
                {
                    return Accepted;
                }
            }
        }
        return Refusal(usable, webhookId, timestamp, signature, now, tolerance);
    }

    /// <summary>
    /// Why a request that no secret accepted was refused. The configuration comes first: without a
    /// usable secret nothing could pass, whatever the request.
    /// </summary>
    private static SignatureCheck Refusal(string[] secrets, string? webhookId, string? timestamp, string? signature, DateTimeOffset now, TimeSpan tolerance)
    {
        var toleranceSeconds = (long)tolerance.TotalSeconds;
        if (secrets.Length == 0)
        {
            return new(SignatureFailure.NoUsableSecret, 0, toleranceSeconds, "");
        }
        (string Name, string? Value)[] headers = [(WebhookSignature.HeaderId, webhookId), (WebhookSignature.HeaderTimestamp, timestamp), (WebhookSignature.HeaderSignature, signature)];
        var missing = headers.Where(header => string.IsNullOrEmpty(header.Value)).Select(header => header.Name).ToArray();
        if (missing.Length > 0)
        {
            return new(SignatureFailure.MissingHeaders, 0, toleranceSeconds, string.Join(", ", missing));
        }
        if (!WebhookSignature.TryParseTimestamp(timestamp, out var seconds))
        {
            return new(SignatureFailure.MalformedTimestamp, 0, toleranceSeconds, "");
        }
        var skew = now.ToUnixTimeSeconds() - seconds;
        var failure = skew > toleranceSeconds ? SignatureFailure.TimestampTooOld
            : -skew > toleranceSeconds ? SignatureFailure.TimestampTooNew
            : SignatureFailure.NoMatchingSignature;
        return new(failure, skew, toleranceSeconds, "");
    }

    /// <summary>Whether a secret is one Herald made (not a placeholder): <see cref="WebhookSignature.IsUsableSecret"/>.</summary>
    private static bool IsUsable(string secret) => WebhookSignature.IsUsableSecret(secret);
}
