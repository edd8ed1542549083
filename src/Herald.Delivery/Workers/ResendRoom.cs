namespace Herald.Delivery.Workers;

/// <summary>
/// How many resends wait on this node, in all and for each merchant: the queue holds at most
/// <c>capacity</c>, and one merchant at most <c>perMerchant</c> of them, so a merchant resending
/// or recovering in bulk leaves room for the others' resends.
/// </summary>
internal sealed class ResendRoom(int capacity, int perMerchant)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _byMerchant = new(StringComparer.Ordinal);
    private int _waiting;

    /// <summary>Resends waiting on this node, every merchant's.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>How many more of <paramref name="merchantId"/>'s resends there is room for.</summary>
    public int FreeFor(string merchantId)
    {
        lock (_lock)
        {
            return RoomFor(merchantId);
        }
    }

    // Under the lock.
    private int RoomFor(string merchantId) => Math.Max(0, Math.Min(capacity - _waiting, perMerchant - _byMerchant.GetValueOrDefault(merchantId)));

    /// <summary>Room left on the node, whoever's.</summary>
    public int Free => Math.Max(0, capacity - Volatile.Read(ref _waiting));

    /// <summary>
    /// Takes room for up to <paramref name="wanted"/> of the merchant's resends (all or none if asked);
    /// answers how many it took.
    /// </summary>
    public int Take(string merchantId, int wanted, bool allOrNothing)
    {
        lock (_lock)
        {
            var room = RoomFor(merchantId);
            var take = allOrNothing ? (room >= wanted ? wanted : 0) : Math.Min(room, wanted);
            if (take > 0)
            {
                Count(merchantId, take);
            }
            return take;
        }
    }

    /// <summary>Counts resends accepted already (handed back by another node), past the bounds if need be.</summary>
    public void Add(string merchantId, int count)
    {
        lock (_lock)
        {
            Count(merchantId, count);
        }
    }

    /// <summary>Gives back the room of resends sent, or given up on.</summary>
    public void Give(string merchantId, int count)
    {
        lock (_lock)
        {
            Count(merchantId, -count);
        }
    }

    private void Count(string merchantId, int count)
    {
        Volatile.Write(ref _waiting, _waiting + count);
        var now = _byMerchant.GetValueOrDefault(merchantId) + count;
        if (now <= 0)
        {
            _byMerchant.Remove(merchantId);
        }
        else
        {
            _byMerchant[merchantId] = now;
        }
    }
}
