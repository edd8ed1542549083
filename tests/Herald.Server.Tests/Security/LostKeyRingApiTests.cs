using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Herald.Server.Tests.Security;

/// <summary>
/// A data folder started again without its key ring (restored from a copy of herald.db alone, say):
/// the endpoints' secrets and headers kept before cannot be read, and the merchant still manages
/// the endpoints, rotating the secret and giving the headers again as the attempts' error says.
/// </summary>
public sealed class LostKeyRingApiTests
{
    [Fact]
    public async Task EndpointsWhoseSecretAndHeadersNoKeyReads_AreRead_Changed_Tested_AndMendedThroughTheApi()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        await using var receiver = await TestReceiver.StartAsync();
        try
        {
            string key, plain, withHeaders;
            await using (var first = await HeraldHost.StartAsync(dataDirectory: data))
            {
                using var admin = first.As(HeraldHost.AdminKey);
                key = (await admin.PostJsonAsync("/v1/merchants", new { name = "Restored" })).Str("api_key");
                using var merchant = first.As(key);
                (plain, _) = await merchant.AddEndpointAsync(receiver.Url, "thin");
                (withHeaders, _) = await merchant.AddEndpointAsync(receiver.Url, "thin",
                    new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gateway", ["X-Team"] = "payments" } });
            }
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path.Combine(data, "keys"), recursive: true);

            await using var restored = await HeraldHost.StartAsync(dataDirectory: data);
            using var client = restored.As(key);

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/endpoints")).StatusCode);
            foreach (var id in new[] { plain, withHeaders })
            {
                var read = await client.GetAsync($"/v1/endpoints/{id}");
                Assert.Equal((id, HttpStatusCode.OK), (id, read.StatusCode));
                var paused = await client.PostAsync($"/v1/endpoints/{id}/pause", null);
                Assert.Equal((id, HttpStatusCode.OK), (id, paused.StatusCode));
                var changed = await client.PatchAsync($"/v1/endpoints/{id}", JsonContent.Create(new { description = "restored" }));
                Assert.Equal((id, HttpStatusCode.OK), (id, changed.StatusCode));
                var resumed = await client.PostAsync($"/v1/endpoints/{id}/resume", null);
                Assert.Equal((id, HttpStatusCode.OK), (id, resumed.StatusCode));
                var recovered = await client.PostAsync($"/v1/endpoints/{id}/recover", JsonContent.Create(new { since = "2026-11-01T00:00:00Z" }));
                Assert.Equal((id, HttpStatusCode.Accepted), (id, recovered.StatusCode));
            }

            // A test sends nothing, and says why, as an attempt does.
            var test = await client.PostJsonAsync($"/v1/endpoints/{plain}/test", new { }, 200);
            Assert.False(test["succeeded"]!.GetValue<bool>());
            Assert.Contains("cannot be read on this node", test.Str("error"), StringComparison.Ordinal);
            Assert.Empty(receiver.Received);

            // A change that gives no headers keeps those kept, unread, rather than drop them.
            var stored = await restored.ReadDatabaseAsync($"SELECT headers FROM endpoints WHERE id = '{withHeaders}'");
            Assert.StartsWith("dp1:", Assert.Single(stored), StringComparison.Ordinal);

            // Mended as the attempts' error says: a new secret, and the headers given again.
            await client.PostJsonAsync($"/v1/endpoints/{withHeaders}/rotate_secret", new { grace_seconds = 0 }, 200);
            var mended = await client.PatchAsync($"/v1/endpoints/{withHeaders}",
                JsonContent.Create(new { headers = new Dictionary<string, string> { ["Authorization"] = "Bearer gateway", ["X-Team"] = "payments" } }));
            Assert.Equal(HttpStatusCode.OK, mended.StatusCode);
            var sent = await client.PostJsonAsync($"/v1/endpoints/{withHeaders}/test", new { }, 200);
            Assert.True(sent["succeeded"]!.GetValue<bool>());
            var request = await receiver.WaitForAsync(1);
            Assert.Equal("Bearer gateway", request.Headers["authorization"]);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
