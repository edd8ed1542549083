using Npgsql;

namespace Herald.Storage.Postgres;

/// <summary>
/// Listens on <see cref="PostgresStore.WakeChannel"/> and calls back for every notification, so a
/// change recorded on one node is delivered promptly by whichever node has free workers; and on
/// <see cref="PostgresStore.EndpointsChannel"/>, so that the store may keep endpoints in memory
/// while it listens (any node's endpoint write drops them); and on
/// <see cref="PostgresStore.AdminKeyChannel"/>, so that a replaced admin key is followed at once.
/// Reconnects with a backoff when the
/// database goes away, the store reading endpoints afresh meanwhile.
/// </summary>
public sealed class PostgresWakeListener(PostgresStore store, Action onWake)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                try
                {
                    // A session of its own, outside the pool: a listening connection must never be handed to other work.
                    // Its keepalive query finds a connection silently gone within seconds, rather than
                    // leaving the store trusting announcements that no longer come.
                    await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(store.ConnectionString) { Pooling = false, KeepAlive = 10 }.ConnectionString);
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    connection.Notification += (_, e) =>
                    {
                        switch (e.Channel)
                        {
                            case PostgresStore.EndpointsChannel:
                                store.EndpointsChangedElsewhere();
                                break;
                            case PostgresStore.AdminKeyChannel:
                                store.AdminKeyReplacedElsewhere();
                                break;
                            default:
                                onWake();
                                break;
                        }
                    };
                    await using (var listen = new NpgsqlCommand($"LISTEN {PostgresStore.WakeChannel}; LISTEN {PostgresStore.EndpointsChannel}; LISTEN {PostgresStore.AdminKeyChannel}", connection))
                    {
                        await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    store.WatchEndpoints(true);
                    delay = TimeSpan.FromMilliseconds(250);
                    // Work may have been recorded while this node was not listening.
                    onWake();
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // Not listening any more: endpoint writes could go unannounced.
                    store.WatchEndpoints(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
