using Herald.Storage.Abstractions;

namespace Herald.Server.Api;

/// <summary>
/// Whether the database answers, for <c>/readyz</c>, within <see cref="Limit"/>: a database that
/// hangs (rather than refuses) makes the node not ready at once, not after its connection's own
/// timeout. Probes that come while one check is under way wait for that one instead of piling up.
/// </summary>
internal sealed class ReadinessProbe(IHeraldStore store)
{
    /// <summary>How long a probe waits for the database's answer.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    /// <summary>How long a check may run on after its probes gave up waiting.</summary>
    private static readonly TimeSpan CheckLimit = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private Task<string?>? _check;

    /// <summary>Null when the database answers; otherwise what keeps it from answering (see <see cref="IHeraldStore.DiagnoseAsync"/>).</summary>
    public async Task<string?> DatabaseTroubleAsync(CancellationToken cancellationToken)
    {
        Task<string?> check;
        lock (_gate)
        {
            if (_check is not { IsCompleted: false })
            {
                _check = CheckAsync();
            }
            check = _check;
        }
        try
        {
            return await check.WaitAsync(Limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return NoAnswer;
        }
    }

    private static readonly string NoAnswer = DatabaseTrouble.Unreachable.Status();

    /// <summary>
    /// Whether the database answers within <see cref="Limit"/>, whatever it answers (read-only, out
    /// of connections): false when it does not, or cannot be reached.
    /// </summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken) =>
        await DatabaseTroubleAsync(cancellationToken).ConfigureAwait(false) != NoAnswer;

    private async Task<string?> CheckAsync()
    {
        using var limit = new CancellationTokenSource(CheckLimit);
        try
        {
            return await store.DiagnoseAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return NoAnswer;
        }
    }
}
