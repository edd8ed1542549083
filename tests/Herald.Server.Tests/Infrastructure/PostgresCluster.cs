using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of the test's own, from the machine's binaries (as scripts/postgres.sh
/// starts the suite's), so that the test may freeze it — every process of it stopped by SIGSTOP,
/// its connections left open and unanswered, as a hung server or a network partition leaves them —
/// without holding up the other tests' shared cluster.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly string Binaries = Environment.GetEnvironmentVariable("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

    private readonly string _folder;
    private bool _frozen;

    private PostgresCluster(string folder, int port)
    {
        _folder = folder;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=herald;Database=postgres";
    }

    public string ConnectionString { get; }

    private string Data => Path.Combine(_folder, "data");

    public static async Task<PostgresCluster> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("herald-pg-own-").FullName;
        await RunAsync("chmod", "755", folder);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", "postgres", folder);
        }
        int port;
        using (var free = new TcpListener(IPAddress.Loopback, 0))
        {
            free.Start();
            port = ((IPEndPoint)free.LocalEndpoint).Port;
        }
        var cluster = new PostgresCluster(folder, port);
        await AsPostgresAsync(Path.Combine(Binaries, "initdb"), "-D", cluster.Data, "-U", "herald", "--auth=trust", "-E", "UTF8");
        await AsPostgresAsync(Path.Combine(Binaries, "pg_ctl"), "-D", cluster.Data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off", "start");
        return cluster;
    }

    /// <summary>Stops the postmaster (so it starts no process) and then every process it started, each with SIGSTOP.</summary>
    public async Task FreezeAsync()
    {
        _frozen = true;
        var postmaster = Postmaster();
        await RunAsync("kill", "-STOP", postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var child in Children(postmaster))
        {
            await RunAsync("kill", "-STOP", child.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Lets every process of the cluster go on (SIGCONT), its children first.</summary>
    public async Task ThawAsync()
    {
        var postmaster = Postmaster();
        foreach (var child in Children(postmaster))
        {
            await RunAsync("kill", "-CONT", child.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        await RunAsync("kill", "-CONT", postmaster.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _frozen = false;
    }

    private int Postmaster() => int.Parse(File.ReadLines(Path.Combine(Data, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);

    private static List<int> Children(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => name!.All(char.IsAsciiDigit))
            .Select(name => int.Parse(name!, System.Globalization.CultureInfo.InvariantCulture))
            .Where(pid =>
            {
                try
                {
                    // The parent's pid is the fourth field, after the name in parentheses.
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) == parent;
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .ToList();

    public async ValueTask DisposeAsync()
    {
        if (_frozen)
        {
            await ThawAsync();
        }
        try
        {
            await AsPostgresAsync(Path.Combine(Binaries, "pg_ctl"), "-D", Data, "-m", "immediate", "stop");
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    // initdb refuses to run as root: the cluster then runs as the postgres user, as scripts/postgres.sh runs it.
    private static Task AsPostgresAsync(string program, params string[] arguments) =>
        Environment.IsPrivilegedProcess ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
        }
    }
}
