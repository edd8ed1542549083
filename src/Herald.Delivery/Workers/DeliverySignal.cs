namespace Herald.Delivery.Workers;

/// <summary>
/// Wakes this node's workers when work is recorded here, so it is dispatched at once instead of at
/// the next poll: work to claim from the database (<see cref="Notify"/>), or notifications handed
/// over in memory (<see cref="DeliveryHandOff"/>).
/// </summary>
public sealed class DeliverySignal
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _workersRunning;

    /// <summary>Whether this node's delivery loop is running (for readiness).</summary>
    public bool WorkersRunning
    {
        get => _workersRunning;
        internal set => _workersRunning = value;
    }

    private int _claimable;

    /// <summary>Work was recorded that a claim will find.</summary>
    public void Notify()
    {
        Volatile.Write(ref _claimable, 1);
        Wake();
    }

    /// <summary>Whether <see cref="Notify"/> was called since the last time this asked; asking resets it.</summary>
    internal bool TakeClaimable() => Interlocked.Exchange(ref _claimable, 0) == 1;

    /// <summary>Wakes the workers without saying there is anything to claim.</summary>
    internal void Wake()
    {
        // One pending wake-up is enough: the worker claims everything due when it wakes.
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    /// <summary>Waits for a wake-up, at most <paramref name="timeout"/>: true when woken, false when the time ran out.</summary>
    internal Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken) =>
        // On the system clock the semaphore keeps the time itself; any other clock (a test's) is waited on.
        time == TimeProvider.System ? _wake.WaitAsync(timeout, cancellationToken) : WaitOnClockAsync(timeout, time, cancellationToken);

    private async Task<bool> WaitOnClockAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var wake = _wake.WaitAsync(cts.Token);
        var delay = Task.Delay(timeout, time, cts.Token);
        var first = await Task.WhenAny(wake, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        // The loser is cancelled; waiting for it is only so the wake-up it may have taken is not lost.
        await Task.WhenAll(wake, delay).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        return first == wake;
    }
}
