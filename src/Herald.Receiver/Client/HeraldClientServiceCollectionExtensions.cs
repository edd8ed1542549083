using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Herald.Receiver;

/// <summary>Registers <see cref="HeraldClient"/> in an app's services.</summary>
public static class HeraldClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HeraldClient"/> as a typed HttpClient (<see cref="IHttpClientFactory"/>),
    /// its <see cref="HeraldClientOptions"/> bound from the configuration section <c>Herald</c>
    /// (<c>Herald:Url</c>, <c>Herald:ApiKey</c>), then given to <paramref name="configure"/>. A missing,
    /// blank or malformed setting stops the app at start with an <see cref="OptionsValidationException"/>
    /// naming it. <see cref="HeraldWebhookEndpointExtensions.MapHeraldWebhooks(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder, string, HeraldWebhookOptions, Func{Events.HeraldEvent, CancellationToken, Task})">MapHeraldWebhooks</see>
    /// fetches thin events' orders with it when its <see cref="HeraldWebhookOptions.Client"/> is not set.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Sets or overrides settings in code, after configuration is read.</param>
    /// <returns>The HttpClient's builder, to add handlers or resilience to it.</returns>
    public static IHttpClientBuilder AddHeraldClient(this IServiceCollection services, Action<HeraldClientOptions>? configure = null) =>
        services.AddHeraldClient(HeraldClientOptions.SectionName, configure);

    /// <summary>
    /// As <see cref="AddHeraldClient(IServiceCollection, Action{HeraldClientOptions}?)"/>, its settings
    /// read from the section <paramref name="configSectionPath"/> (e.g. <c>Payments:Herald</c>).
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configSectionPath">The configuration section holding <c>Url</c> and <c>ApiKey</c>.</param>
    /// <param name="configure">Sets or overrides settings in code, after configuration is read.</param>
    /// <returns>The HttpClient's builder, to add handlers or resilience to it.</returns>
    public static IHttpClientBuilder AddHeraldClient(this IServiceCollection services, string configSectionPath, Action<HeraldClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(configSectionPath);
        var options = services.AddOptions<HeraldClientOptions>()
            // An app without configuration (a bare ServiceCollection) has its settings from code alone.
            .Configure<IServiceProvider>((o, provider) => provider.GetService<IConfiguration>()?.GetSection(configSectionPath).Bind(o));
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HeraldClientOptions>>(new Validation(configSectionPath)));
        options.ValidateOnStart();
        // Named as AddHttpClient<HeraldClient>() names it, so configuring "HeraldClient" elsewhere reaches it.
        return services
            .AddHttpClient(nameof(HeraldClient), (provider, http) => http.BaseAddress = new Uri(Settings(provider).Url!.Trim()))
            .AddTypedClient((http, provider) => new HeraldClient(http, Settings(provider).ApiKey!.Trim()));

        static HeraldClientOptions Settings(IServiceProvider provider) => provider.GetRequiredService<IOptions<HeraldClientOptions>>().Value;
    }

    /// <summary>Refuses settings the client could not work with, naming them as configuration does; never shows the key.</summary>
    private sealed class Validation(string section) : IValidateOptions<HeraldClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, HeraldClientOptions options)
        {
            var failures = new List<string>();
            if (string.IsNullOrWhiteSpace(options.Url))
            {
                failures.Add($"{section}:Url is not set: set it to Herald's address (e.g. https://herald.your-platform.com), or {Variable("URL")} in the environment");
            }
            else if (!Uri.TryCreate(options.Url.Trim(), UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                failures.Add($"{section}:Url '{options.Url.Trim()}' is not an absolute http or https address such as https://herald.your-platform.com");
            }
            if (string.IsNullOrWhiteSpace(options.ApiKey))
            {
                failures.Add($"{section}:ApiKey is not set: set it to a merchant API key (hk_…; a read-only one is enough), or {Variable("APIKEY")} in the environment");
            }
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private string Variable(string key) => section.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant() + "__" + key;
    }
}
