using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Bench;

/// <summary>A Kestrel receiver on loopback that answers 200 and notes when each webhook-id first arrived.</summary>
internal sealed class CountingReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _requests;
    private long _bytes;

    private CountingReceiver(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, TimeSpan> FirstSeen { get; } = new(StringComparer.Ordinal);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Request body bytes received, to show every contender sent bodies of the same size.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public string Url { get; private set; } = "";

    public TimeSpan Now => _clock.Elapsed;

    public static async Task<CountingReceiver> StartAsync()
    {
        // The content root is the program's own folder, not the working directory: the host watches its
        // content root, subfolders and all, for changes to appsettings.json, and a working directory can
        // be large or busy (a database being written under it costs a file-system event per write).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new CountingReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            long length = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer)) > 0)
            {
                length += read;
            }
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Add(ref receiver._bytes, length);
            Interlocked.Increment(ref receiver._requests);
            receiver.FirstSeen.TryAdd(http.Request.Headers["webhook-id"].ToString(), receiver._clock.Elapsed);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
        return receiver;
    }

    public void Reset()
    {
        FirstSeen.Clear();
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _bytes, 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
