using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Net.Sockets;
using System.Text;

namespace Herald.Cli.Tests.Infrastructure;

/// <summary>A real <c>herald</c> process, started from the build output next to the tests.</summary>
public sealed class HeraldProcess : IAsyncDisposable
{
    public const string AdminKey = "hk_admin_process_tests_0123456789";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HeraldProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Url { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGTERM, as a process manager stops a node; returns once it has exited (bounded), with its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan within)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        await _process.WaitForExitAsync().WaitAsync(within);
        return _process.ExitCode;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>An environment value that removes the variable (the tests' own settings included), rather than setting it empty: no variable can hold a NUL.</summary>
    public const string Unset = "\0";

    public static Process Start(params string[] args) => Start(args, null);

    /// <summary>Starts herald with <paramref name="args"/>, and <paramref name="environment"/> over the tests' own settings.</summary>
    public static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "herald.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["HERALD_ADMIN_KEY"] = AdminKey;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            if (value == Unset)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        return Process.Start(info)!;
    }

    /// <summary>A new merchant of this node (made with the admin key): a client of its API carrying the merchant's key, and the key.</summary>
    public async Task<(HttpClient Client, string Key)> NewMerchantAsync(string name)
    {
        using var admin = new HttpClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var merchant = await (await admin.PostAsJsonAsync(Url + "/v1/merchants", new { name })).Content.ReadFromJsonAsync<JsonObject>();
        var key = merchant!["api_key"]!.GetValue<string>();
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (client, key);
    }

    /// <summary>Runs a command to its end and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, args, null);

    /// <summary><see cref="RunAsync(TimeSpan, string[])"/> with <paramref name="environment"/> over the tests' own settings.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        using var process = Start(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A command that should have ended (refused its options, say) and runs on instead is
            // stopped here rather than left running, holding its port and data folder, after the test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"herald {string.Join(' ', args)} was still running after {timeout.TotalSeconds:0} s: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts <c>herald serve</c> on a free port and waits until it says it listens and answers /healthz. A port found
    /// free can be taken by someone else (an outgoing connection's own port, say) before the node
    /// binds it: the node is then started again on another one, a few times at most.
    /// </summary>
    public static Task<HeraldProcess> ServeAsync(params string[] args) => ServeAsync(args, "http", null);

    /// <summary>
    /// <see cref="ServeAsync(string[])"/> on <paramref name="scheme"/>, /healthz asked through a
    /// client <paramref name="client"/> makes for the node's address (a plain one when null).
    /// </summary>
    public static async Task<HeraldProcess> ServeAsync(string[] args, string scheme, Func<Uri, HttpClient>? client, IReadOnlyDictionary<string, string>? environment = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ServeOnFreePortAsync(args, scheme, client, environment);
            }
            catch (InvalidOperationException e) when (attempt < 3 && (e.Message.Contains("address already in use", StringComparison.Ordinal) || e.Message.Contains("its port is in use", StringComparison.Ordinal)))
            {
            }
        }
    }

    private static async Task<HeraldProcess> ServeOnFreePortAsync(string[] args, string scheme, Func<Uri, HttpClient>? makeClient, IReadOnlyDictionary<string, string>? environment)
    {
        var port = FreePort();
        var url = $"{scheme}://127.0.0.1:{port}";
        var node = new HeraldProcess(Start(["serve", "--urls", url, .. args], environment), url);
        // Generous: a loaded machine may take long to JIT the first request.
        using var client = makeClient?.Invoke(new Uri(url)) ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (node.HasExited)
            {
                // Its output read to the end before it is quoted.
                await node._process.WaitForExitAsync();
                var exited = new InvalidOperationException($"herald exited with {node.ExitCode}: {node.Output}");
                await node.DisposeAsync();
                throw exited;
            }
            try
            {
                // The node says it listens only once it has bound the port: until then whatever answers
                // there (another test's node that took the port first) is not this one.
                if (node.Output.Contains("Herald listening on", StringComparison.Ordinal)
                    && (await client.GetAsync(url + "/healthz")).IsSuccessStatusCode)
                {
                    return node;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                // Never leave a half-started node running behind a failed test.
                await node.DisposeAsync();
                throw new TimeoutException("herald did not start: " + node.Output);
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Starts <c>herald listen</c> on a free port and waits until it accepts connections.</summary>
    public static async Task<HeraldProcess> ListenAsync(int port, params string[] args)
    {
        var url = $"http://127.0.0.1:{port}";
        var node = new HeraldProcess(Start(["listen", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]), url);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!node.Output.Contains("Listening on", StringComparison.Ordinal))
        {
            if (node.HasExited || DateTime.UtcNow > deadline)
            {
                // Its output read to the end before it is quoted; never left running behind a failed test.
                if (node.HasExited)
                {
                    await node._process.WaitForExitAsync();
                }
                await node.DisposeAsync();
                throw new InvalidOperationException("herald listen did not start: " + node.Output);
            }
            await Task.Delay(100);
        }
        return node;
    }

    /// <summary>Waits (real time, bounded) until the output contains <paramref name="text"/> <paramref name="times"/> times.</summary>
    public async Task WaitForOutputAsync(string text, int times = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Count(Output, text) < times)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"expected '{text}' {times} times in: {Output}");
            }
            await Task.Delay(100);
        }
    }

    public static int Count(string haystack, string needle)
    {
        var count = 0;
        for (var i = haystack.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = haystack.IndexOf(needle, i + needle.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// SIGKILL: the process gets no chance to release anything. Returns once it is gone (what the
    /// system lets go of for it, such as its data folder's lock, let go).
    /// </summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>A loopback port free a moment ago (someone else may take it before it is bound).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
