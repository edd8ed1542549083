using System.Net;
using System.Net.Sockets;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>The options of <c>herald serve</c> reach the node: HTTPS and the API rate limit.</summary>
public sealed class ServeOptionsTests : IDisposable
{
    private readonly SelfSignedCertificate _certificate = new();

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Serve_WithHttpsCertAndRateLimit_AnswersOverHttpsWithHsts_AndThrottlesAKey()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var url = $"https://127.0.0.1:{port}";
        using var process = HeraldProcess.Start("serve", "--urls", url, "--data", Path.Combine(_certificate.Folder, "data"),
            "--https-cert", _certificate.PemPath, "--https-key", _certificate.KeyPath, "--rate-limit", "2");
        try
        {
            using var client = _certificate.TrustingClient(new Uri(url));
            HttpResponseMessage? health = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (health is null)
            {
                Assert.False(process.HasExited, "herald serve exited");
                Assert.True(DateTime.UtcNow < deadline, "herald serve did not answer over https");
                try
                {
                    health = await client.GetAsync("/healthz");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(200);
                }
            }
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Contains("max-age=", health.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

            // A rate of 2/s with a burst of 4: ten calls at once cannot all pass.
            client.DefaultRequestHeaders.Authorization = new("Bearer", HeraldProcess.AdminKey);
            var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ => (await client.GetAsync("/v1/notifications")).StatusCode));
            Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
