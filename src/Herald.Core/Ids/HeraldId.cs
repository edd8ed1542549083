using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Herald.Ids;

/// <summary>
/// Prefixed, time-ordered identifiers (<c>evt_…</c>, <c>ep_…</c>): ten characters of millisecond
/// timestamp in Crockford base32, then sixteen random ones (counting up from there within a
/// millisecond). Sorting ids sorts by creation time, which is what cursor pagination over
/// notifications relies on.
/// </summary>
public static class HeraldId
{
    public const string Merchant = "mer";
    public const string ApiKey = "key";
    public const string Endpoint = "ep";
    public const string Event = "evt";

    /// <summary>
    /// The prefix of the event ids an endpoint's test sends under (<c>evt_test_…</c>): part of the
    /// signed <c>webhook-id</c>, so a receiver can tell an example from a delivery in a way nobody on
    /// the path can forge or strip. No recorded event's id has it (the time and random parts hold no
    /// underscore).
    /// </summary>
    public const string TestEvent = "evt_test";
    public const string Notification = "ntf";
    public const string Attempt = "att";
    public const string CheckoutPreference = "pref";
    public const string Resend = "rsd";

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private const int TimeChars = 10;
    private const int RandomChars = 16;

    /// <summary>
    /// A new id. Ids made with one clock in one millisecond follow each other in the order they
    /// were made (the random part of the first, then one more each time), so that a change
    /// recorded after another, a payment's next state say, lists after it even within a millisecond.
    /// </summary>
    public static string New(string prefix, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Span<char> chars = stackalloc char[TimeChars + RandomChars];
        var now = time.GetUtcNow();
        WriteTime(chars, now);
        LastIds.GetValue(time, _ => new LastId()).Next(now.ToUnixTimeMilliseconds(), chars[TimeChars..]);
        return string.Concat(prefix, "_", chars);
    }

    /// <summary>The last id's millisecond and random part, per clock.</summary>
    private static readonly ConditionalWeakTable<TimeProvider, LastId> LastIds = new();

    private sealed class LastId
    {
        private readonly Lock _lock = new();
        private readonly char[] _random = new char[RandomChars];
        private long _ms = long.MinValue;

        /// <summary>Writes the random part of an id made at <paramref name="ms"/>.</summary>
        public void Next(long ms, Span<char> random)
        {
            lock (_lock)
            {
                if (ms != _ms || !Increment(_random))
                {
                    var bytes = RandomBytes(RandomChars);
                    for (var i = 0; i < RandomChars; i++)
                    {
                        _random[i] = Alphabet[bytes[i] & 31];
                    }
                    _ms = ms;
                }
                _random.CopyTo(random);
            }
        }

        /// <summary>Adds one to a random part; false when it was the greatest there is.</summary>
        private static bool Increment(char[] random)
        {
            for (var i = random.Length - 1; i >= 0; i--)
            {
                var digit = Alphabet.IndexOf(random[i], StringComparison.Ordinal);
                if (digit < Alphabet.Length - 1)
                {
                    random[i] = Alphabet[digit + 1];
                    return true;
                }
                random[i] = Alphabet[0];
            }
            return false;
        }
    }

    /// <summary>Whether <paramref name="id"/> has the form of an id <see cref="New"/> makes with <paramref name="prefix"/>.</summary>
    public static bool IsWellFormed(string prefix, string id)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(id);
        return id.Length == prefix.Length + 1 + TimeChars + RandomChars
            && id.StartsWith(prefix, StringComparison.Ordinal) && id[prefix.Length] == '_'
            && id.AsSpan(prefix.Length + 1).IndexOfAnyExcept(Alphabet) < 0;
    }

    /// <summary>
    /// The least id of <paramref name="prefix"/> made at <paramref name="at"/>: every id made before
    /// it sorts below this, every id made at or after it does not. No id is made before 1970: a time
    /// before it gives the least id of all (its milliseconds, negative, would sort above every id).
    /// </summary>
    public static string Floor(string prefix, DateTimeOffset at)
    {
        Span<char> chars = stackalloc char[TimeChars];
        WriteTime(chars, at < DateTimeOffset.UnixEpoch ? DateTimeOffset.UnixEpoch : at);
        return string.Concat(prefix, "_", chars);
    }

    private static void WriteTime(Span<char> chars, DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        for (var i = TimeChars - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(ms & 31)];
            ms >>= 5;
        }
    }

    // Random bytes are drawn from the system's generator a block at a time and handed out by the
    // thread that drew them: an id per change, notification and attempt would otherwise cost a
    // call into the generator (and a system call) each.
    private const int RandomBlock = 16 * RandomChars;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_randomUsed;

    private static ReadOnlySpan<byte> RandomBytes(int count)
    {
        var block = t_random;
        if (block is null || t_randomUsed + count > RandomBlock)
        {
            block = t_random ??= new byte[RandomBlock];
            RandomNumberGenerator.Fill(block);
            t_randomUsed = 0;
        }
        var bytes = block.AsSpan(t_randomUsed, count);
        t_randomUsed += count;
        return bytes;
    }

    // Seed 001's alphabet in byte order, so that ids compare as the numbers they begin with.
    private const string OpaqueAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int OpaqueTimeChars = 8;

    /// <summary>
    /// An identifier in the style of seed 001 (<c>rcAaNfKdKJRmrnj4l5</c>: 18 letters and digits)
    /// whose first eight characters are the millisecond of its creation in base 62 and the rest
    /// random (59 bits): ids made later sort later, so an index by entity id grows at its end
    /// instead of taking each new entity on a page of its own.
    /// </summary>
    public static string NewOpaque(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        const int length = 18;
        Span<char> chars = stackalloc char[length];
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = OpaqueTimeChars - 1; i >= 0; i--)
        {
            chars[i] = OpaqueAlphabet[(int)(ms % OpaqueAlphabet.Length)];
            ms /= OpaqueAlphabet.Length;
        }
        RandomNumberGenerator.GetItems(OpaqueAlphabet, chars[OpaqueTimeChars..]);
        return new string(chars);
    }

    /// <summary>
    /// A UUID in the form of seeds 000 and 003 (<c>ee40a31b-a14f-48e2-a272-e3fc013f4735</c>), of
    /// version 7: it begins with the millisecond of its creation, so ids made later sort later (as
    /// text too), and an index by entity id grows at its end.
    /// </summary>
    public static string NewUuid(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        // RFC 9562's layout: 48 bits of milliseconds (big-endian), the version, then random bits
        // (from the thread's block, where Guid.CreateVersion7 reads the system's generator per id)
        // around the variant.
        Span<byte> bytes = stackalloc byte[16];
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)ms;
            ms >>= 8;
        }
        RandomBytes(10).CopyTo(bytes[6..]);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        return new Guid(bytes, bigEndian: true).ToString();
    }

    public static bool HasPrefix(string? id, string prefix) =>
        id is not null && id.Length > prefix.Length + 1 && id.StartsWith(prefix, StringComparison.Ordinal) && id[prefix.Length] == '_';
}
