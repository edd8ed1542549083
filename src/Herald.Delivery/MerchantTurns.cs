using System.Runtime.InteropServices;
using Herald.Errors;

namespace Herald.Delivery;

/// <summary>
/// How many of one kind of costly work each merchant may have under way at once on a node: past
/// <paramref name="perMerchant"/>, a merchant's next is refused (429, <c>Retry-After: 1</c>) with
/// <paramref name="refusal"/>, while the other merchants' go on.
/// </summary>
public sealed class MerchantTurns(int perMerchant, string refusal)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _under = new(StringComparer.Ordinal);

    /// <summary>How many one merchant may have under way at once.</summary>
    public int PerMerchant => perMerchant;

    /// <summary>Takes one of <paramref name="merchantId"/>'s turns, given back when the turn is disposed; 429 when it has none left.</summary>
    public Turn Take(string merchantId)
    {
        ArgumentNullException.ThrowIfNull(merchantId);
        lock (_lock)
        {
            var under = _under.GetValueOrDefault(merchantId);
            if (under >= perMerchant)
            {
                throw new HeraldException(ErrorKind.TooManyRequests, refusal) { RetryAfter = TimeSpan.FromSeconds(1) };
            }
            _under[merchantId] = under + 1;
        }
        return new Turn(this, merchantId);
    }

    private void GiveBack(string merchantId)
    {
        lock (_lock)
        {
            if (--CollectionsMarshal.GetValueRefOrNullRef(_under, merchantId) == 0)
            {
                _under.Remove(merchantId);
            }
        }
    }

    /// <summary>One merchant's turn, under way until disposed.</summary>
    public readonly struct Turn : IDisposable
    {
        private readonly MerchantTurns? _turns;
        private readonly string? _merchantId;

        internal Turn(MerchantTurns turns, string merchantId)
        {
            _turns = turns;
            _merchantId = merchantId;
        }

        public void Dispose() => _turns?.GiveBack(_merchantId!);
    }
}
