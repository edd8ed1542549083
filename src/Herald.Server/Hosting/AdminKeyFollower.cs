using Herald.Errors;
using Herald.Server.Auth;
using Herald.Storage.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Hosting;

/// <summary>
/// Keeps a node on a shared PostgreSQL database accepting the admin key the database keeps: a node
/// started with <c>HERALD_ADMIN_KEY</c> replaces it there and announces it, and every running node
/// reads it again at once (and every <see cref="Every"/> all the same, should an announcement be
/// missed while its listening connection was down), the old key refused from then on. While the
/// database is away it says so in one line with the driver's words, at most once a
/// <see cref="Quiet"/>, as delivery does, not a stack at every try.
/// </summary>
internal sealed partial class AdminKeyFollower(PostgresStore store, AdminKey admin, ILogger<AdminKeyFollower> logger, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(10);

    /// <summary>How long the database's absence stays out of the log after it was said.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);

    private readonly QuietLog<int> _quiet = new(Quiet, time);

    // Released when a replacement is announced; the loop reads the key when it is, or when Every is up.
    private readonly SemaphoreSlim _announced = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        store.AdminKeyReplaced += Announced;
        try
        {
            while (true)
            {
                // Real time: how soon a replaced key stops being accepted is the operator's concern, not the delivery clock's.
                await _announced.WaitAsync(Every, stoppingToken).ConfigureAwait(false);
                try
                {
                    if (await store.ReadAdminKeyHashAsync(stoppingToken).ConfigureAwait(false) is { } kept)
                    {
                        admin.Follow(kept);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Failed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            store.AdminKeyReplaced -= Announced;
        }
    }

    private void Failed(Exception e)
    {
        if (store.TroubleOf(e) is null)
        {
            NotRead(logger, e);
        }
        else if (_quiet.ShouldWrite(5101, out var held))
        {
            DatabaseAway(logger, FailureWords.Said(e), held);
        }
    }

    private void Announced()
    {
        try
        {
            _announced.Release();
        }
        catch (SemaphoreFullException)
        {
            // A read is already due.
        }
    }

    public override void Dispose()
    {
        _announced.Dispose();
        base.Dispose();
    }

    [LoggerMessage(5100, LogLevel.Warning, "The shared admin key could not be read; the node accepts the one it had until the next try")]
    private static partial void NotRead(ILogger logger, Exception exception);

    [LoggerMessage(5101, LogLevel.Warning, "The shared admin key could not be read, the database cannot be used: {Said}; the node accepts the one it had until the next try (said once a minute: {Held} more so since)")]
    private static partial void DatabaseAway(ILogger logger, string said, int held);
}
