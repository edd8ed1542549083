using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Hosting;

/// <summary>HTTPS served by Herald itself, HSTS with it, and forwarded headers from trusted proxies only.</summary>
internal static class Transport
{
    public static void Configure(WebApplicationBuilder builder, HeraldServerOptions options)
    {
        if (options.HttpsCertificatePath is { Length: > 0 } path)
        {
            var certificate = Load(path, options.HttpsKeyPath, options.HttpsCertificatePassword);
            // The slim builder leaves HTTPS out unless asked.
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
            builder.Services.AddHsts(hsts =>
            {
                hsts.MaxAge = TimeSpan.FromDays(365);
                hsts.IncludeSubDomains = true;
                // Herald decides by its own configuration, not by the host name it is reached at.
                hsts.ExcludedHosts.Clear();
            });
        }
        if (options.TrustedProxies.Count > 0)
        {
            builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var proxy in options.TrustedProxies)
                {
                    forwarded.KnownIPNetworks.Add(HeraldServerOptions.ProxyNetwork(proxy)
                        ?? throw new InvalidOperationException($"trusted proxy '{proxy}' is neither an address nor a CIDR network"));
                }
            });
        }
    }

    public static void Use(WebApplication app, HeraldServerOptions options)
    {
        if (options.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }
        if (options.HttpsCertificatePath is { Length: > 0 })
        {
            app.UseHsts();
        }
    }

    /// <summary>
    /// What was likely left out, for a certificate that could not be read: a PEM's private key (a
    /// file of its own for an HTTPS certificate, given with --https-key; in the same file for the
    /// keys certificate), or a PFX's password, which its variable gives.
    /// </summary>
    private static string Hint(string path, string? keyPath, string? password, string what)
    {
        var https = what == "HTTPS certificate";
        if (Path.GetExtension(path).ToLowerInvariant() is ".pem" or ".crt" or ".cer")
        {
            string text;
            try
            {
                text = File.ReadAllText(keyPath ?? path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return "";
            }
            if (text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal) || text.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
            {
                return " (its private key is encrypted, which Herald does not read in a PEM: give it unencrypted, readable by Herald's user alone, or use a .pfx and its password)";
            }
            return keyPath is not null || text.Contains("PRIVATE KEY", StringComparison.Ordinal) ? ""
                : https ? " (no --https-key was given: give the certificate's private key with --https-key, or put it in the same file)"
                : " (its private key must be in the same file)";
        }
        return string.IsNullOrEmpty(password) && keyPath is null
            ? $" (no password was given: set {(https ? "HERALD_HTTPS_CERT_PASSWORD" : "HERALD_KEYS_CERT_PASSWORD")})"
            : "";
    }

    /// <summary>A certificate with its private key: a PFX/PKCS#12 file, or a PEM file with its key in <paramref name="keyPath"/> or in itself.</summary>
    internal static X509Certificate2 Load(string path, string? keyPath, string? password, string what = "HTTPS certificate")
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(Directory.Exists(path)
                ? $"the {what} {path} is a folder: give the certificate's file"
                : $"the {what} {path} does not exist");
        }
        try
        {
            var text = Path.GetExtension(path).ToLowerInvariant() is ".pem" or ".crt" or ".cer";
            if (text || keyPath is not null)
            {
                using var pem = X509Certificate2.CreateFromPemFile(path, keyPath);
                // Kestrel on Linux wants the key in an exportable, ephemeral-free form.
                return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException($"cannot read the {what} {path}: {e.Message}{Hint(path, keyPath, password, what)}", e);
        }
    }
}
