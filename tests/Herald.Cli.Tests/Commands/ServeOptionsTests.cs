using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Herald.Cli.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>The options of <c>herald serve</c> reach the node: HTTPS and the API rate limit.</summary>
public sealed class ServeOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("herald-cli-tls-").FullName;
    private readonly X509Certificate2 _certificate;

    public ServeOptionsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=herald-cli-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(Path.Combine(_folder, "herald.pem"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_folder, "herald.key"), key.ExportPkcs8PrivateKeyPem());
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

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
        using var process = HeraldProcess.Start("serve", "--urls", url, "--data", Path.Combine(_folder, "data"),
            "--https-cert", Path.Combine(_folder, "herald.pem"), "--https-key", Path.Combine(_folder, "herald.key"), "--rate-limit", "2");
        try
        {
            using var client = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == _certificate.GetCertHashString() },
            })
            { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
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
