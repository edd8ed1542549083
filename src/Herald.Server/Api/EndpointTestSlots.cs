using System.Collections.Concurrent;
using Herald.Delivery.Sending;
using Herald.Errors;
using Endpoint = Herald.Storage.Model.Endpoint;

namespace Herald.Server.Api;

/// <summary>
/// How many endpoint tests each merchant may have waiting for an answer at once on this node. A
/// test holds its request (and a connection out) until the endpoint answers or its timeout, up to a
/// minute: within the request rate alone, one merchant's tests of a receiver that never answers
/// would hold thousands of both.
/// </summary>
public sealed class EndpointTestSlots
{
    /// <summary>Tests one merchant may have in flight at once.</summary>
    public const int PerMerchant = 5;

    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Sends the test through <paramref name="tester"/>, or refuses it (429) while the merchant has <see cref="PerMerchant"/> in flight.</summary>
    public async Task<AttemptResult> SendAsync(EndpointTester tester, Endpoint endpoint, string? eventType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tester);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!TryEnter(endpoint.MerchantId))
        {
            throw new HeraldException(ErrorKind.TooManyRequests,
                $"{PerMerchant} endpoint tests of this merchant are waiting for their answers already; retry once one has its answer")
            {
                RetryAfter = TimeSpan.FromSeconds(1),
            };
        }
        try
        {
            return await tester.SendAsync(endpoint, eventType, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Exit(endpoint.MerchantId);
        }
    }

    private bool TryEnter(string merchantId)
    {
        while (true)
        {
            var now = _inFlight.GetOrAdd(merchantId, 0);
            if (now >= PerMerchant)
            {
                return false;
            }
            if (_inFlight.TryUpdate(merchantId, now + 1, now))
            {
                return true;
            }
        }
    }

    private void Exit(string merchantId)
    {
        while (true)
        {
            var now = _inFlight[merchantId];
            if (now == 1 ? _inFlight.TryRemove(new KeyValuePair<string, int>(merchantId, 1)) : _inFlight.TryUpdate(merchantId, now - 1, now))
            {
                return;
            }
        }
    }
}
