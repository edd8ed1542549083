using Npgsql;

namespace Herald.Storage.Postgres;

/// <summary>
/// Listens on <see cref="PostgresStore.WakeChannel"/> and calls back for every notification, so a
/// change recorded on one node is delivered promptly by whichever node has free workers.
/// Reconnects with a backoff when the database goes away.
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
                // A session of its own, outside the pool: a listening connection must never be handed to other work.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(store.ConnectionString) { Pooling = false }.ConnectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, _) => onWake();
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresStore.WakeChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                delay = TimeSpan.FromMilliseconds(250);
                // Work may have been recorded while this node was not listening.
                onWake();
                while (!cancellationToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
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
