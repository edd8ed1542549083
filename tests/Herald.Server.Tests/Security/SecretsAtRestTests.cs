using Herald.Server.Tests.Infrastructure;
using Herald.Signing;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Security;

public sealed class SecretsAtRestTests : HeraldWithReceiver
{
    [Fact]
    public async Task EndpointSecrets_AreEncryptedInTheDatabase_AndStillSign()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, secret) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var rotated = (await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 0 }, 200)).Str("secret");

        var stored = await Herald.ReadDatabaseAsync("SELECT secret FROM endpoint_secrets");
        Assert.Equal(2, stored.Count);
        Assert.All(stored, s =>
        {
            Assert.StartsWith("dp1:", s, StringComparison.Ordinal);
            Assert.DoesNotContain("whsec_", s, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(secret, stored);
        Assert.DoesNotContain(rotated, stored);
        Assert.True(Directory.EnumerateFiles(Path.Combine(Herald.DataDirectory, "keys")).Any());

        await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
        var request = await Receiver.WaitForAsync(1);
        Assert.True(WebhookSignature.Verify(rotated, request.Headers["webhook-id"], request.Headers["webhook-timestamp"],
            request.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(request.Body), Herald.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)));
    }
}

public sealed class KeyRingCertificateTests
{
    [Fact]
    public async Task AKeysCertificateWithoutAnRsaKey_IsRefusedAtStart()
    {
        var pfx = Path.Combine(Path.GetTempPath(), "herald-keys-" + Guid.NewGuid().ToString("N") + ".pfx");
        using (var ecdsa = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Herald key ring", ecdsa, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pw"));
        }
        try
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => HeraldHost.StartAsync(tune: o =>
            {
                o.KeysCertificatePath = pfx;
                o.KeysCertificatePassword = "pw";
            }));
            Assert.Contains("must have an RSA private key", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(pfx);
        }
    }

    /// <summary>A self-signed certificate with an RSA key, as a PFX file protected by "pw".</summary>
    private static async Task<string> RsaPfxAsync()
    {
        var pfx = Path.Combine(Path.GetTempPath(), "herald-keys-" + Guid.NewGuid().ToString("N") + ".pfx");
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=Herald key ring", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pw"));
        return pfx;
    }

    [Fact]
    public async Task AKeysCertificateGivenLater_ProtectsNewSecretsWithANewEncryptedKey_AndOldSecretsStillSign()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        var pfx = await RsaPfxAsync();
        await using var receiver = await TestReceiver.StartAsync();
        try
        {
            string key, before;
            Guid pending;
            await using (var plain = await HeraldHost.StartAsync(dataDirectory: data, workers: false))
            {
                using var merchant = await plain.NewMerchantAsync();
                key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
                before = (await merchant.AddEndpointAsync(receiver.Url, "thin")).Secret;
                // The ring also made the current key's successor ahead of time, unencrypted too.
                pending = plain.Services.GetRequiredService<IKeyManager>()
                    .CreateNewKey(DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow.AddDays(91)).KeyId;
            }
            var keysDirectory = Path.Combine(data, "keys");
            var oldKeys = Directory.GetFiles(keysDirectory);
            Assert.Equal(2, oldKeys.Length);
            Assert.All(oldKeys, k => Assert.Contains("<value>", File.ReadAllText(k), StringComparison.Ordinal));

            await using var secured = await HeraldHost.StartAsync(dataDirectory: data, tune: o =>
            {
                o.KeysCertificatePath = pfx;
                o.KeysCertificatePassword = "pw";
            });
            using var again = secured.As(key);
            var after = (await again.AddEndpointAsync(receiver.Url, "thin")).Secret;

            // A second key, stored only encrypted to the certificate, protects the secret made now.
            var newKey = Assert.Single(Directory.GetFiles(keysDirectory, "key-*.xml"), f => !oldKeys.Contains(f));
            var newKeyXml = await File.ReadAllTextAsync(newKey);
            Assert.Contains("EncryptedData", newKeyXml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", newKeyXml, StringComparison.Ordinal);
            var newKeyId = System.Xml.Linq.XElement.Parse(newKeyXml).Attribute("id")!.Value;
            Assert.Equal(Guid.Parse(newKeyId), await KeyOfNewestSecretAsync(data));

            // The unencrypted successor is revoked before it could take over.
            var revoked = secured.Services.GetRequiredService<IKeyManager>().GetAllKeys().Single(k => k.KeyId == pending);
            Assert.True(revoked.IsRevoked);

            // Both secrets sign: the old key still reads what it protected.
            await again.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
            await receiver.WaitForAsync(2);
            foreach (var secret in new[] { before, after })
            {
                Assert.Contains(receiver.Received, r => WebhookSignature.Verify(secret, r.Headers["webhook-id"], r.Headers["webhook-timestamp"],
                    r.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(r.Body), secured.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)));
            }
        }
        finally
        {
            File.Delete(pfx);
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AKeyRingEncryptedToACertificate_IsRefusedAtAStartWithoutIt_OrWithAnother_AndNoKeyIsWritten()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        var pfx = await RsaPfxAsync();
        var other = await RsaPfxAsync();
        try
        {
            await using (var secured = await HeraldHost.StartAsync(dataDirectory: data, workers: false, tune: o =>
            {
                o.KeysCertificatePath = pfx;
                o.KeysCertificatePassword = "pw";
            }))
            {
                using var merchant = await secured.NewMerchantAsync();
                await merchant.AddEndpointAsync("https://merchant.example/hooks", "thin");
            }
            var keysDirectory = Path.Combine(data, "keys");
            var keys = Directory.GetFiles(keysDirectory);
            Assert.NotEmpty(keys);

            // Without the certificate the node could read none of the secrets, and would make a key of its
            // own stored in clear, which would protect the secrets made then: it does not start.
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => HeraldHost.StartAsync(dataDirectory: data, workers: false));
            Assert.Contains("encrypted to a keys certificate", refused.Message, StringComparison.Ordinal);
            Assert.Contains("--keys-cert", refused.Message, StringComparison.Ordinal);
            Assert.Equal(keys, Directory.GetFiles(keysDirectory));

            // With another certificate it could read none of them either, and would make a key that
            // only that certificate opens: refused alike, naming both.
            var refusedOther = await Assert.ThrowsAsync<InvalidOperationException>(() => HeraldHost.StartAsync(dataDirectory: data, workers: false, tune: o =>
            {
                o.KeysCertificatePath = other;
                o.KeysCertificatePassword = "pw";
            }));
            Assert.Contains($"the key ring in {keysDirectory} is encrypted to another keys certificate (CN=Herald key ring, thumbprint ", refusedOther.Message, StringComparison.Ordinal);
            Assert.Contains($"than {other} (CN=Herald key ring, thumbprint ", refusedOther.Message, StringComparison.Ordinal);
            Assert.Equal(keys, Directory.GetFiles(keysDirectory));
        }
        finally
        {
            File.Delete(other);
            File.Delete(pfx);
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The data-protection key the most recently stored endpoint secret was protected with (its payload's bytes 4 to 20).</summary>
    private static async Task<Guid> KeyOfNewestSecretAsync(string data)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "herald.db")};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT secret FROM endpoint_secrets ORDER BY rowid DESC LIMIT 1";
        var stored = (string)(await command.ExecuteScalarAsync())!;
        var payload = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(stored["dp1:".Length..]);
        return new Guid(payload.AsSpan(4, 16));
    }

    [Fact]
    public async Task WithAKeysCertificate_TheKeyRingInPostgreSqlIsEncrypted_ANodeWithoutItIsRefused_AndAnotherNodeWithItSigns()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var pfx = await RsaPfxAsync();
        void WithCertificate(Herald.Server.Hosting.HeraldServerOptions o)
        {
            o.KeysCertificatePath = pfx;
            o.KeysCertificatePassword = "pw";
        }
        try
        {
            string key, secret;
            await using (var first = await HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, tune: WithCertificate))
            {
                using var merchant = await first.NewMerchantAsync();
                key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
                secret = (await merchant.AddEndpointAsync(receiver.Url, "thin")).Secret;
            }

            var stored = new List<string>();
            await using (var connection = new Npgsql.NpgsqlConnection(db.ConnectionString))
            {
                await connection.OpenAsync();
                await using var command = new Npgsql.NpgsqlCommand("SELECT xml FROM data_protection_keys", connection);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    stored.Add(reader.GetString(0));
                }
            }
            // The key is there only encrypted to the certificate: a copy of the database cannot read the secrets.
            var ring = Assert.Single(stored);
            Assert.Contains("EncryptedData", ring, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", ring, StringComparison.Ordinal);

            // A node started without the certificate could read none of the secrets, and would add a key
            // of its own in clear: it does not start, and the ring is as it was.
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false));
            Assert.Contains("the key ring in the database (data_protection_keys) is encrypted to a keys certificate", refused.Message, StringComparison.Ordinal);
            await using (var connection = new Npgsql.NpgsqlConnection(db.ConnectionString))
            {
                await connection.OpenAsync();
                await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM data_protection_keys", connection);
                Assert.Equal(1L, await count.ExecuteScalarAsync());
            }
            // Nor with another certificate, which could read none of them either.
            var other = await RsaPfxAsync();
            try
            {
                var refusedOther = await Assert.ThrowsAsync<InvalidOperationException>(() => HeraldHost.StartAsync(postgres: db.ConnectionString, workers: false, tune: o =>
                {
                    o.KeysCertificatePath = other;
                    o.KeysCertificatePassword = "pw";
                }));
                Assert.Contains("the key ring in the database (data_protection_keys) is encrypted to another keys certificate", refusedOther.Message, StringComparison.Ordinal);
            }
            finally
            {
                File.Delete(other);
            }
            await using (var connection = new Npgsql.NpgsqlConnection(db.ConnectionString))
            {
                await connection.OpenAsync();
                await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM data_protection_keys", connection);
                Assert.Equal(1L, await count.ExecuteScalarAsync());
            }

            // A node started afresh with the same certificate reads the key ring and signs with the secret.
            await using var second = await HeraldHost.StartAsync(postgres: db.ConnectionString, tune: WithCertificate);
            using var again = second.As(key);
            await again.PostJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" });
            var delivered = await receiver.WaitForAsync(1);
            Assert.True(WebhookSignature.Verify(secret, delivered.Headers["webhook-id"], delivered.Headers["webhook-timestamp"],
                delivered.Headers["webhook-signature"], System.Text.Encoding.UTF8.GetBytes(delivered.Body), second.Clock.GetUtcNow(), TimeSpan.FromMinutes(5)));
        }
        finally
        {
            File.Delete(pfx);
        }
    }
}
