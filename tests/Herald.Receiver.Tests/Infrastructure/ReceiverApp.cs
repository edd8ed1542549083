using System.Runtime.CompilerServices;
using Herald.Receiver;
using Herald.Receiver.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Infrastructure;

/// <summary>A merchant's app on Kestrel (127.0.0.1, random port) with MapHeraldWebhooks routes.</summary>
public sealed class ReceiverApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private StrongBox<int> _handled = new();

    private ReceiverApp(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl) };
    }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    public static async Task<ReceiverApp> StartAsync(Action<WebApplication> map, LogSink? logs = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            map(app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ReceiverApp(app, address);
    }

    public static Task<ReceiverApp> StartAsync(HeraldWebhookOptions options, Func<HeraldEvent, CancellationToken, Task> handler, LogSink? logs = null) =>
        StartAsync(app => app.MapHeraldWebhooks("/webhooks", options, handler), logs);

    /// <summary>An app whose handler only counts the notifications handed to it (<see cref="Handled"/>).</summary>
    public static async Task<ReceiverApp> StartCountingAsync(HeraldWebhookOptions options, LogSink? logs = null)
    {
        var counter = new StrongBox<int>();
        var app = await StartAsync(options, (_, _) =>
        {
            Interlocked.Increment(ref counter.Value);
            return Task.CompletedTask;
        }, logs);
        app._handled = counter;
        return app;
    }

    /// <summary>How many notifications the handler of an app <see cref="StartCountingAsync"/> started was given.</summary>
    public int Handled => Volatile.Read(ref _handled.Value);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
