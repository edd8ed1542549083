using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// A certificate for 127.0.0.1 made at test time, written as PFX (password <see cref="Password"/>),
/// PEM and PEM key into a temp folder, and a client that trusts exactly it.
/// </summary>
public sealed class SelfSignedCertificate : IDisposable
{
    public const string Password = "s3cret";

    private readonly X509Certificate2 _certificate;

    public SelfSignedCertificate()
    {
        Folder = Directory.CreateTempSubdirectory("herald-tls-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=herald-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(PfxPath, _certificate.Export(X509ContentType.Pkcs12, Password));
        File.WriteAllText(PemPath, _certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public string Folder { get; }

    public string PfxPath => Path.Combine(Folder, "herald.pfx");

    public string PemPath => Path.Combine(Folder, "herald.pem");

    public string KeyPath => Path.Combine(Folder, "herald.key");

    /// <summary>A client that accepts this certificate and no other, and follows no redirect.</summary>
    public HttpClient TrustingClient(Uri baseAddress, bool useCookies = true) => new(new SocketsHttpHandler
    {
        UseCookies = useCookies,
        AllowAutoRedirect = false,
        SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == _certificate.GetCertHashString() },
    })
    { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
