using Herald.Server.Tests.Infrastructure;
using Herald.Signing;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Tests.Security;

public sealed class SecretsAtRestTests : HeraldWithReceiver
{
    [Fact]
    public async Task EndpointSecrets_AreEncryptedInTheDatabase_AndStillSign()
    {
        using var merchant = await Herald.NewMerchantAsync();
        var (endpoint, secret) = await merchant.AddEndpointAsync(Receiver.Url, "thin");
        var rotated = (await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { grace_seconds = 0 }, 200)).Str("secret");

        var stored = new List<string>();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(Herald.DataDirectory, "herald.db")};Mode=ReadOnly"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT secret FROM endpoint_secrets";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }
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
