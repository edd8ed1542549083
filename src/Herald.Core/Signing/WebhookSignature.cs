using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Signing;

/// <summary>
/// Standard Webhooks signatures: <c>v1,</c> + base64 of HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>,
/// keyed with the base64-decoded secret (its <c>whsec_</c> prefix stripped).
/// </summary>
#if HERALD_RECEIVER
// Compiled into the receiver kit too, where it stays internal so an app may reference both.
internal
#else
public
#endif
static class WebhookSignature
{
    /// <summary>The prefix of Standard Webhooks secrets.</summary>
    public const string SecretPrefix = "whsec_";

    /// <summary>The header naming the message (Herald: the event id).</summary>
    public const string HeaderId = "webhook-id";

    /// <summary>The header with the signing time, unix seconds.</summary>
    public const string HeaderTimestamp = "webhook-timestamp";

    /// <summary>The header with the signatures.</summary>
    public const string HeaderSignature = "webhook-signature";

    /// <summary>A new secret: <c>whsec_</c> and the base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Decodes a secret to its key bytes; <c>false</c> when it is not valid base64.</summary>
    public static bool TryDecodeSecret(string secret, out byte[] key)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var buffer = new byte[MaxKeyBytes(secret)];
        key = TryDecodeSecret(secret, buffer, out var written) ? buffer[..written] : [];
        return key.Length > 0;
    }

    /// <summary>The fewest key bytes a receiver takes a secret with: fewer is a placeholder (<c>whsec_xxx</c>), not a key Herald made.</summary>
    public const int MinKeyBytes = 16;

    /// <summary>
    /// Whether a receiver can check signatures with <paramref name="secret"/>: the base64 of a key
    /// of at least <see cref="MinKeyBytes"/> bytes, after <c>whsec_</c> as Herald writes it (or
    /// without it, as Standard Webhooks allows; spaces around it ignored). Placeholders
    /// (<c>whsec_…</c>, <c>changeme</c>, <c>whsec_xxx</c>) are not: their values are public, so a
    /// request signed with one would be a forgery that passes.
    /// </summary>
    public static bool IsUsableSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!TryDecodeSecret(secret, out var key))
        {
            return false;
        }
        var usable = key.Length >= MinKeyBytes;
        CryptographicOperations.ZeroMemory(key);
        return usable;
    }

    /// <summary>The most key bytes <paramref name="secret"/> can decode to.</summary>
    private static int MaxKeyBytes(string secret) => (secret.Length + 3) / 4 * 3;

    /// <summary>Decodes a secret into <paramref name="key"/> (at least <see cref="MaxKeyBytes"/> long), making no string or array of its own.</summary>
    private static bool TryDecodeSecret(string secret, Span<byte> key, out int written)
    {
        written = 0;
        // A secret read from a file or an environment variable often ends with a line break.
        var encoded = secret.AsSpan().Trim();
        if (encoded.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            encoded = encoded[SecretPrefix.Length..];
        }
        // Some issuers drop base64 padding; restore it rather than refuse the secret.
        var padding = (4 - (encoded.Length % 4)) % 4;
        if (encoded.Length == 0 || padding == 3)
        {
            return false;
        }
        Span<char> padded = encoded.Length + padding <= 256 ? stackalloc char[encoded.Length + padding] : new char[encoded.Length + padding];
        encoded.CopyTo(padded);
        padded[encoded.Length..].Fill('=');
        return Convert.TryFromBase64Chars(padded, key, out written) && written > 0;
    }

    /// <summary>One signature, <c>v1,&lt;base64&gt;</c>.</summary>
    public static string Sign(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!TryMac(secret, messageId, timestamp, body, mac))
        {
            throw new ArgumentException("the secret is not valid base64", nameof(secret));
        }
        Span<char> chars = stackalloc char[3 + ((HMACSHA256.HashSizeInBytes + 2) / 3 * 4)];
        "v1,".CopyTo(chars);
        Convert.TryToBase64Chars(mac, chars[3..], out var written);
        return new string(chars[..(3 + written)]);
    }

    /// <summary>The <c>webhook-signature</c> header: one signature per secret, space-separated.</summary>
    public static string SignatureHeader(IEnumerable<string> secrets, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets is IReadOnlyList<string> { Count: 1 } one)
        {
            // The usual case, outside a secret's rotation: the header is the one signature.
            return Sign(one[0], messageId, timestamp, body);
        }
        var builder = new StringBuilder();
        foreach (var secret in secrets)
        {
            if (builder.Length > 0)
            {
                builder.Append(' ');
            }
            builder.Append(Sign(secret, messageId, timestamp, body));
        }
        return builder.ToString();
    }

    /// <summary>
    /// Verifies a <c>webhook-signature</c> header: true when any <c>v1</c> entry matches (its base64
    /// compared as Herald writes it, in constant time) and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>.
    /// The timestamp must be plain digits as Herald sends it: signs, spaces, fractions and leading
    /// zeros are refused, since the signed text and the parsed time could then disagree.
    /// </summary>
    public static bool Verify(string secret, string messageId, string timestamp, string signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(signatureHeader);
        if (!TryParseTimestamp(timestamp, out var ts))
        {
            return false;
        }
        var nowSeconds = now.ToUnixTimeSeconds();
        var toleranceSeconds = (long)tolerance.TotalSeconds;
        if (nowSeconds - ts > toleranceSeconds || ts > nowSeconds + toleranceSeconds)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!TryMac(secret, messageId, ts, body, expected))
        {
            return false;
        }
        // Compared as the text Herald writes, as the Standard Webhooks libraries and the sample
        // receivers compare it: decoded, base64 spells one MAC several ways (the last character's
        // unused bits), and a receiver would take a signature its neighbours in other languages refuse.
        Span<char> expectedText = stackalloc char[(HMACSHA256.HashSizeInBytes + 2) / 3 * 4];
        Convert.TryToBase64Chars(expected, expectedText, out var length);
        foreach (var entry in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !entry.AsSpan(0, comma).SequenceEqual("v1"))
            {
                continue;
            }
            var given = entry.AsSpan(comma + 1);
            if (given.Length == length
                && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(given), MemoryMarshal.AsBytes(expectedText[..length])))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A <c>webhook-timestamp</c> as <see cref="Verify"/> reads it: plain digits, as Herald sends it
    /// (signs, spaces, fractions and leading zeros are refused: the signed text and the time could
    /// then disagree).
    /// </summary>
    public static bool TryParseTimestamp(string? timestamp, out long seconds) =>
        long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out seconds)
        && seconds.ToString(CultureInfo.InvariantCulture) == timestamp;

    /// <summary>
    /// The MAC of a message under <paramref name="secret"/>, into <paramref name="mac"/>; false when
    /// the secret is not valid base64. The secret is decoded on the stack every time: no copy of it
    /// is kept anywhere else.
    /// </summary>
    private static bool TryMac(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        var most = MaxKeyBytes(secret);
        Span<byte> key = most <= 192 ? stackalloc byte[most] : new byte[most];
        if (!TryDecodeSecret(secret, key, out var keyLength))
        {
            return false;
        }
        Mac(key[..keyLength], messageId, timestamp, body, mac);
        return true;
    }

    private static void Mac(ReadOnlySpan<byte> key, string messageId, long timestamp, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        // One HMAC over "{id}.{timestamp}.{body}" assembled in a borrowed buffer: a one-shot hash
        // makes no hashing object per signature.
        var prefixLength = Encoding.UTF8.GetByteCount(messageId) + 22;
        var buffer = ArrayPool<byte>.Shared.Rent(prefixLength + body.Length);
        try
        {
            var written = Encoding.UTF8.GetBytes(messageId, buffer);
            buffer[written++] = (byte)'.';
            timestamp.TryFormat(buffer.AsSpan(written), out var digits, provider: CultureInfo.InvariantCulture);
            written += digits;
            buffer[written++] = (byte)'.';
            body.CopyTo(buffer.AsSpan(written));
            HMACSHA256.HashData(key, buffer.AsSpan(0, written + body.Length), mac);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
