using Herald.Server.Auth;
using Herald.Storage.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Hosting;

/// <summary>
/// Keeps a node on a shared PostgreSQL database accepting the admin key the database keeps: a node
/// started with <c>HERALD_ADMIN_KEY</c> replaces it there, and every running node follows within
/// <see cref="Every"/>, the old key refused from then on.
/// </summary>
internal sealed partial class AdminKeyFollower(PostgresStore store, AdminKey admin, ILogger<AdminKeyFollower> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Real time: how soon a replaced key stops being accepted is the operator's concern, not the delivery clock's.
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (await store.ReadAdminKeyHashAsync(stoppingToken).ConfigureAwait(false) is { } kept)
                    {
                        admin.Follow(kept);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    NotRead(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(5100, LogLevel.Warning, "The shared admin key could not be read; the node accepts the one it had until the next try")]
    private static partial void NotRead(ILogger logger, Exception exception);
}
