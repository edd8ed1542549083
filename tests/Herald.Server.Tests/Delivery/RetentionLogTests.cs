using System.Reflection;
using Herald.Delivery;
using Herald.Delivery.Workers;
using Herald.Server.Tests.Infrastructure;
using Herald.Storage.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Server.Tests.Delivery;

/// <summary>What the retention's log says when a purge fails.</summary>
public sealed class RetentionLogTests
{
    /// <summary>The real store, but for a purge that fails as told.</summary>
    public class FailingPurge : StoreProxy
    {
        public Exception Failure { get; set; } = new InvalidOperationException("not set");

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            return targetMethod.Name == nameof(IHeraldStore.PurgeAsync) ? Task.FromException<int>(Failure) : Forward(targetMethod, args);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task APurgeOnAFullDisk_IsAWarningOfOneLine_AnyOtherFailureAnErrorWithItsStack_NeitherTheDeliveryLoops(bool diskFull)
    {
        await using var herald = await HeraldHost.StartAsync(workers: false);
        var store = StoreProxy.Over<FailingPurge>(herald.Services.GetRequiredService<IHeraldStore>());
        StoreProxy.Of<FailingPurge>(store).Failure = diskFull
            ? new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13)
            : new InvalidOperationException("a fault of Herald's");
        var logs = new CapturedLogs("");
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        using var retention = new RetentionService(store, TimeProvider.System, Options.Create(new DeliveryOptions()), factory.CreateLogger<RetentionService>());

        await retention.StartAsync(CancellationToken.None);
        await HeraldHost.EventuallyAsync(() => Task.FromResult(!logs.Entries.IsEmpty));
        await retention.StopAsync(CancellationToken.None);

        var said = Assert.Single(logs.Entries);
        Assert.StartsWith("Retention: ", said.Message, StringComparison.Ordinal);
        if (diskFull)
        {
            Assert.Equal((LogLevel.Warning, 2018), (said.Level, said.EventId));
            Assert.StartsWith("Retention: the database cannot be used: ", said.Message, StringComparison.Ordinal);
            Assert.Contains("disk is full", said.Message, StringComparison.Ordinal);
            Assert.EndsWith("; purging again after 00:01:00", said.Message, StringComparison.Ordinal);
            Assert.Null(said.Exception);
        }
        else
        {
            Assert.Equal((LogLevel.Error, 2019), (said.Level, said.EventId));
            Assert.Equal("a fault of Herald's", said.Exception?.Message);
        }
    }
}
