using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>A merchant's endpoint: real Kestrel on 127.0.0.1, answering whatever the test says now.</summary>
public sealed class TestReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private TaskCompletionSource? _hold;

    private TestReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>The status the next requests get.</summary>
    public int Status { get; set; } = 200;

    public string Url { get; private set; } = "";

    /// <summary>A Retry-After value to answer with, when set.</summary>
    public string? RetryAfter { get; set; }

    /// <summary>Decides the status per request when set (otherwise <see cref="Status"/>).</summary>
    public Func<ReceivedRequest, int>? Answer { get; set; }

    /// <summary>A Location header to answer with, when set.</summary>
    public string? Location { get; set; }

    /// <summary>The body to answer with, when set (otherwise "answer &lt;status&gt;").</summary>
    public string? ResponseBody { get; set; }

    /// <summary>How long each request takes to answer.</summary>
    public TimeSpan Delay { get; set; }

    private int _inFlight;
    private int _maxInFlight;

    /// <summary>The most requests this receiver had open at once since the last <see cref="ResetMaxInFlight"/>.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public void ResetMaxInFlight() => Volatile.Write(ref _maxInFlight, Volatile.Read(ref _inFlight));

    public static async Task<TestReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new TestReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var request = new ReceivedRequest(http.Request.Path, headers, body);
            // The answer is decided on arrival, before the request is seen: a test that changes
            // Status once it has seen a request changes the answers of the requests after it only.
            var status = receiver.Answer?.Invoke(request) ?? receiver.Status;
            receiver.Received.Enqueue(request);
            var open = Interlocked.Increment(ref receiver._inFlight);
            try
            {
                for (var max = Volatile.Read(ref receiver._maxInFlight); open > max && Interlocked.CompareExchange(ref receiver._maxInFlight, open, max) != max; max = Volatile.Read(ref receiver._maxInFlight))
                {
                }
                if (receiver._hold is { } hold)
                {
                    await hold.Task.WaitAsync(http.RequestAborted);
                }
                if (receiver.Delay > TimeSpan.Zero)
                {
                    await Task.Delay(receiver.Delay, http.RequestAborted);
                }
            }
            finally
            {
                Interlocked.Decrement(ref receiver._inFlight);
            }
            http.Response.StatusCode = status;
            if (receiver.RetryAfter is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = retryAfter;
            }
            if (receiver.Location is { } location)
            {
                http.Response.Headers.Location = location;
            }
            await http.Response.WriteAsync(receiver.ResponseBody ?? $"answer {http.Response.StatusCode}");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hooks";
        return receiver;
    }

    /// <summary>Requests wait without an answer until <see cref="Release"/>.</summary>
    public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release()
    {
        var hold = _hold;
        _hold = null;
        hold?.TrySetResult();
    }

    public async Task<ReceivedRequest> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (Received.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the receiver got {Received.Count} requests, expected {count}");
            }
            await Task.Delay(20);
        }
        return Received.ElementAt(count - 1);
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, string Body);
