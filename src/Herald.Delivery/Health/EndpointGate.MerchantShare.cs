namespace Herald.Delivery.Health;

// The endpoint gate: a merchant's share of the node's attempts, held by its endpoints that hold them long.
public sealed partial class EndpointGate
{
    /// <summary>
    /// Most attempts one merchant may have in flight at once to its endpoints not known to be healthy:
    /// failing (their last attempt failed), slow (their attempts lately took <see cref="SlowAttempt"/>
    /// or more on average) or stalled (attempts of theirs in flight, and none ended for
    /// <see cref="SlowAttempt"/>: a receiver that takes the connections and answers none).
    /// </summary>
    public int MerchantShare => _merchantShare;

    /// <summary>Counts one more attempt in the merchant's share, unless the share is taken.</summary>
    private bool TryCountHeld(string merchantId)
    {
        lock (_shareLock)
        {
            var now = _heldInFlight.GetValueOrDefault(merchantId);
            if (now >= _merchantShare)
            {
                return false;
            }
            _heldInFlight[merchantId] = now + 1;
            return true;
        }
    }

    private bool MerchantShareTaken(string merchantId)
    {
        lock (_shareLock)
        {
            return _heldInFlight.GetValueOrDefault(merchantId) >= _merchantShare;
        }
    }

    /// <summary>
    /// Whether the endpoint is held to its merchant's share now (see
    /// <see cref="EndpointState.HeldToShare"/>); if so, first counts in the share its attempts in
    /// flight let through while it seemed healthy, whatever the share: they hold places all the
    /// same (a receiver that stopped answering holds them until the timeout); if not, gives back
    /// what it counted. Done wherever the gate looks at the endpoint (<see cref="TryEnter"/>,
    /// <see cref="PlacesFree"/>, <see cref="CouldEnter"/>), so that attempts stuck at its cap or
    /// window count too, though nothing more of it is let through to count them. Called under the
    /// endpoint's lock.
    /// </summary>
    private bool NoteHeld(EndpointState state, string merchantId, DateTimeOffset now)
    {
        if (!state.HeldToShare(now))
        {
            // Healthy again (it answered, quickly): what it counted in the share is given back at
            // once, not as its attempts in flight fall below the count, which a busy endpoint's never do.
            if (state.CountedHeld > 0)
            {
                UncountHeld(state.Merchant!, state.CountedHeld);
                state.CountedHeld = 0;
            }
            return false;
        }
        var underWay = state.InFlight - state.CountedHeld;
        if (underWay > 0)
        {
            state.Merchant = merchantId;
            state.CountedHeld = state.InFlight;
            lock (_shareLock)
            {
                _heldInFlight[merchantId] = _heldInFlight.GetValueOrDefault(merchantId) + underWay;
            }
        }
        return true;
    }

    private void UncountHeld(string merchantId, int count = 1)
    {
        lock (_shareLock)
        {
            var now = _heldInFlight.GetValueOrDefault(merchantId) - count;
            if (now <= 0)
            {
                _heldInFlight.Remove(merchantId);
            }
            else
            {
                _heldInFlight[merchantId] = now;
            }
        }
    }
}
