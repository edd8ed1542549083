using System.Collections.Concurrent;
using Herald.Endpoints;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// Endpoints kept in memory by merchant and format, for the changes that go to them, and forgotten when any is written (here, or on another node that says so).
public abstract partial class RelationalStore
{
    /// <summary>
    /// Whether this store may keep merchants' endpoint lists in memory between changes: only when
    /// every write to the endpoints goes through this very instance (one node on its own database).
    /// </summary>
    protected virtual bool OwnsEndpoints => false;

    private volatile bool _endpointsWatched;

    /// <summary>Whether endpoints read may be kept in memory now: the store owns them, or another node's writes are being announced to it.</summary>
    private bool CachesEndpoints => OwnsEndpoints || _endpointsWatched;

    /// <summary>
    /// For a store shared by several nodes: whether every endpoint write by any node is being
    /// announced to this one (through <see cref="EndpointsChangedElsewhere"/>). While it is, endpoints
    /// read are kept in memory; when it starts or stops, what was kept is dropped (announcements may
    /// have been missed).
    /// </summary>
    public void WatchEndpoints(bool watched)
    {
        _endpointsWatched = watched;
        EndpointsChanged();
    }

    /// <summary>Another node wrote an endpoint or its secrets: what was kept in memory is read afresh.</summary>
    public void EndpointsChangedElsewhere() => EndpointsChanged();

    /// <summary>Called in the transaction of every endpoint write, before it commits: where nodes share the database, it announces the write to the others.</summary>
    protected virtual Task OnEndpointsWrittenAsync(WriteScope scope, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Commits an endpoint write. One that changed something is announced to the other nodes, and
    /// what this node keeps in memory is dropped, even when the commit's answer is lost (the
    /// database may have committed all the same).
    /// </summary>
    private async Task CommitEndpointWriteAsync(WriteScope scope, bool changed, CancellationToken cancellationToken)
    {
        if (!changed)
        {
            await scope.CommitAsync(cancellationToken);
            return;
        }
        await OnEndpointsWrittenAsync(scope, cancellationToken);
        try
        {
            await scope.CommitAsync(cancellationToken);
        }
        finally
        {
            EndpointsChanged();
        }
    }

    // Most entries kept in each cache (lists by merchant and format, delivery targets by endpoint); past it the cache starts over.
    private const int EndpointCacheLimit = 10_000;

    // Kept as finished tasks: every recorded change asks, and is answered without a task of its own.
    private readonly ConcurrentDictionary<(string MerchantId, PayloadFormat Format), Task<IReadOnlyList<Endpoint>>> _endpointCache = new();
    private long _endpointsVersion;

    public Task<IReadOnlyList<Endpoint>> ListEndpointsForFormatAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken = default)
    {
        // Every recorded change asks this; a store that sees every endpoint write answers from memory.
        if (!CachesEndpoints)
        {
            return ReadEndpointsForFormatAsync(merchantId, format, cancellationToken);
        }
        return _endpointCache.TryGetValue((merchantId, format), out var cached) ? cached : ReadEndpointsOnceAsync(merchantId, format, cancellationToken);
    }

    private async Task<IReadOnlyList<Endpoint>> ReadEndpointsOnceAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken)
    {
        // One read fills the cache while the changes recorded meanwhile wait for it, rather than
        // each reading the same rows (and taking a connection of its own) at once. A read begun
        // before the latest endpoint write is joined by no one who came after it.
        var key = (merchantId, format);
        var version = Interlocked.Read(ref _endpointsVersion);
        var read = _endpointReads.AddOrUpdate(key,
            static (k, arg) => arg.Store.NewEndpointRead(k, arg.Version),
            static (k, existing, arg) => existing.Version == arg.Version ? existing : arg.Store.NewEndpointRead(k, arg.Version),
            (Store: this, Version: version));
        try
        {
            return await read.Task.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _endpointReads.TryRemove(KeyValuePair.Create(key, read));
        }
    }

    private sealed record EndpointRead(long Version, Lazy<Task<IReadOnlyList<Endpoint>>> Task);

    private readonly ConcurrentDictionary<(string MerchantId, PayloadFormat Format), EndpointRead> _endpointReads = new();

    private EndpointRead NewEndpointRead((string MerchantId, PayloadFormat Format) key, long version) =>
        new(version, new Lazy<Task<IReadOnlyList<Endpoint>>>(() => ReadAndKeepAsync(key, version)));

    private async Task<IReadOnlyList<Endpoint>> ReadAndKeepAsync((string MerchantId, PayloadFormat Format) key, long version)
    {
        // Shared by whoever asks meanwhile: no one caller's cancellation ends it.
        var endpoints = await ReadEndpointsForFormatAsync(key.MerchantId, key.Format, CancellationToken.None);
        Keep(_endpointCache, key, Task.FromResult(endpoints), version);
        return endpoints;
    }

    private Task<IReadOnlyList<Endpoint>> ReadEndpointsForFormatAsync(string merchantId, PayloadFormat format, CancellationToken cancellationToken) =>
        QueryEndpointsAsync("merchant_id = @merchantId AND format = @format AND deleted_at IS NULL",
            new { merchantId, format = format.ApiName() }, withSecrets: false, cancellationToken);

    /// <summary>
    /// Keeps what was read in <paramref name="cache"/>, where this store may keep endpoints, unless an
    /// endpoint changed since <paramref name="version"/> was read (before the read). Checked again
    /// after storing: a write that cleared the cache in between takes it back out.
    /// </summary>
    private void Keep<TKey, TValue>(ConcurrentDictionary<TKey, TValue> cache, TKey key, TValue value, long version)
        where TKey : notnull
    {
        if (!CachesEndpoints || Interlocked.Read(ref _endpointsVersion) != version)
        {
            return;
        }
        if (cache.Count >= EndpointCacheLimit)
        {
            cache.Clear();
        }
        cache[key] = value;
        if (Interlocked.Read(ref _endpointsVersion) != version)
        {
            cache.TryRemove(KeyValuePair.Create(key, value));
        }
    }

    /// <summary>Called after every endpoint write: what was kept in memory is read afresh.</summary>
    private void EndpointsChanged()
    {
        Interlocked.Increment(ref _endpointsVersion);
        _endpointCache.Clear();
        _targetCache.Clear();
    }
}
