using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Faults;

/// <summary>A data folder whose key ring went missing (restored from a copy of herald.db alone, say): some endpoints' secrets no key reads.</summary>
public sealed class LostKeyRingTests
{
    private static HttpClient Client(string key)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<string> MerchantKeyAsync(HeraldProcess node, string name)
    {
        using var admin = Client(HeraldProcess.AdminKey);
        var merchant = await (await admin.PostAsJsonAsync(node.Url + "/v1/merchants", new { name })).Content.ReadFromJsonAsync<JsonObject>();
        return merchant!["api_key"]!.GetValue<string>();
    }

    private static async Task<string> RecordOrderAsync(HttpClient http, string url)
    {
        using var response = await http.PostAsJsonAsync(url + "/v1/payment_orders", new { amount = 10, currency = "BRL" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task AnEndpointWhoseSecretNoKeyReads_FailsItsOwnAttempts_SendingNothing_AndHoldsUpNoOtherEndpoint()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-lost-keys-" + Guid.NewGuid().ToString("N"));
        await using var lost = await TestReceiver.StartAsync();
        await using var kept = await TestReceiver.StartAsync();
        try
        {
            string lostKey;
            await using (var node = await HeraldProcess.ServeAsync("--dev", "--data", data))
            {
                lostKey = await MerchantKeyAsync(node, "Secret lost");
                using var http = Client(lostKey);
                // Ordered: its notifications are claimed from the queue, as retries and resends are.
                (await http.PostAsJsonAsync(node.Url + "/v1/endpoints", new { url = lost.Url, format = "thin", ordered = true })).EnsureSuccessStatusCode();
            }
            Directory.Delete(Path.Combine(data, "keys"), recursive: true);

            await using var restarted = await HeraldProcess.ServeAsync("--dev", "--data", data);
            using var lostClient = Client(lostKey);
            var order = await RecordOrderAsync(lostClient, restarted.Url);

            using var keptClient = Client(await MerchantKeyAsync(restarted, "Secret kept"));
            (await keptClient.PostAsJsonAsync(restarted.Url + "/v1/endpoints", new { url = kept.Url, format = "thin", ordered = true })).EnsureSuccessStatusCode();
            await RecordOrderAsync(keptClient, restarted.Url);

            // The other merchant's notification goes, whatever the claim it shares with the unreadable one.
            await kept.WaitForAsync(1, TimeSpan.FromSeconds(20));

            // The unreadable endpoint's attempt fails, saying why, and nothing goes out unsigned.
            JsonObject? notification = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                var page = await lostClient.GetFromJsonAsync<JsonObject>($"{restarted.Url}/v1/notifications?entity_id={order}");
                notification = page!["data"]!.AsArray().Single()!.AsObject();
                if (notification["attempt_count"]!.GetValue<int>() > 0)
                {
                    break;
                }
                await Task.Delay(100);
            }
            Assert.Equal(1, notification!["attempt_count"]!.GetValue<int>());
            Assert.Equal("pending", notification["status"]!.GetValue<string>());
            Assert.Contains("cannot be read on this node", notification["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Empty(lost.Received);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
