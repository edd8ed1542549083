using Herald.Delivery.Workers;
using Herald.Storage.Postgres;
using Microsoft.Extensions.Hosting;

namespace Herald.Server.Hosting;

/// <summary>Wakes this node's workers when any node records work in the shared database, and keeps its store's endpoints in memory fresh.</summary>
internal sealed class PostgresWakeService(PostgresStore store, DeliverySignal signal) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new PostgresWakeListener(store, signal.Notify).RunAsync(stoppingToken);
}
