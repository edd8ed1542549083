using Herald.Delivery.Recording;
using Herald.Delivery.Sending;
using Herald.Delivery.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Herald.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the change recorder, the sender and — unless <see cref="DeliveryOptions.WorkersEnabled"/> is
    /// off — the delivery workers. A store (<c>IHeraldStore</c>) must be registered too.
    /// </summary>
    private sealed class ProblemsValidation : IValidateOptions<DeliveryOptions>
    {
        public ValidateOptionsResult Validate(string? name, DeliveryOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }

    public static IServiceCollection AddHeraldDelivery(this IServiceCollection services, Action<DeliveryOptions>? configure = null)
    {
        var options = services.AddOptions<DeliveryOptions>()
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Each problem said as it is, not a list of every rule.
        services.AddSingleton<IValidateOptions<DeliveryOptions>>(new ProblemsValidation());
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DeliverySignal>();
        services.TryAddSingleton<DeliveryHandOff>();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<ChangeRecorder>();
        services.TryAddSingleton<ResendQueue>();
        services.TryAddSingleton<EndpointTester>();
        services.AddMetrics();
        services.TryAddSingleton<DeliveryMetrics>();
        services.TryAddSingleton<Health.EndpointGate>();
        services.TryAddSingleton(sp => new StoreWriter(sp.GetRequiredService<Storage.Abstractions.IHeraldStore>(),
            sp.GetRequiredService<DeliveryHandOff>(), sp.GetRequiredService<DeliverySignal>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<DeliveryMetrics>()));
        services.TryAddSingleton<Health.OperatorEvents>();
        services.AddHostedService<QueueSampler>();
        services.AddHostedService<RetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<ResendQueue>());
        services.AddHostedService<DeliveryWorker>();
        return services;
    }
}
