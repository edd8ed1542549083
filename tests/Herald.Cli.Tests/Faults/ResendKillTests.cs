using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Faults;

/// <summary>Two real nodes on one PostgreSQL database; the one holding resends is killed with SIGKILL.</summary>
public sealed class ResendKillTests
{
    [Fact]
    public async Task ResendsTakenOnByAKilledNode_AreMadeByTheOtherOnceItsHoldRunsOut_EachOnce()
    {
        await using var db = await PostgresDatabase.CreateAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-resend-kill-" + Guid.NewGuid().ToString("N"));
        try
        {
            string[] Args(string name) => ["--dev", "--postgres", db.ConnectionString, "--data", Path.Combine(data, name), "--lease-seconds", "10", "--rate-limit", "0"];
            // The first node migrates the schema; the second finds it ready.
            await using var survivor = await HeraldProcess.ServeAsync(Args("survivor"));
            await using var doomed = await HeraldProcess.ServeAsync(Args("doomed"));

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HeraldProcess.AdminKey);
            var merchant = await (await http.PostAsJsonAsync(survivor.Url + "/v1/merchants", new { name = "Shop" })).Content.ReadFromJsonAsync<JsonObject>();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", merchant!["api_key"]!.GetValue<string>());
            var endpoint = await (await http.PostAsJsonAsync(survivor.Url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).Content.ReadFromJsonAsync<JsonObject>();
            for (var i = 0; i < 3; i++)
            {
                (await http.PostAsJsonAsync(survivor.Url + "/v1/payment_orders", new { amount = i + 1, currency = "BRL" })).EnsureSuccessStatusCode();
            }
            await receiver.WaitForAsync(3);
            await EventuallyAsync(async () => (await NotificationsAsync(http, survivor.Url, "status=succeeded&limit=100")).Count == 3);
            var ids = (await NotificationsAsync(http, survivor.Url, "limit=100")).Select(n => n!["id"]!.GetValue<string>()).ToList();
            // Through the node that will send the resends: its own write drops what it kept in memory.
            (await http.PatchAsJsonAsync(doomed.Url + $"/v1/endpoints/{endpoint!["id"]!.GetValue<string>()}", new { max_concurrency = 1 })).EnsureSuccessStatusCode();

            // The doomed node takes the three resends on: the receiver holds the first, the other
            // two wait their turn. Then it dies without handing anything back.
            receiver.Hold();
            foreach (var id in ids)
            {
                using var accepted = await http.PostAsJsonAsync(doomed.Url + $"/v1/notifications/{id}/resend", new { });
                Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
            }
            await receiver.WaitForAsync(4);
            doomed.Kill();
            receiver.Release();

            // Once the dead node's hold (one 10 s lease) has run out, the survivor makes them.
            foreach (var id in ids)
            {
                await EventuallyAsync(async () => ManualAttempts(await NotificationAsync(http, survivor.Url, id)).Count > 0, TimeSpan.FromSeconds(60));
            }
            await Task.Delay(1_000);
            foreach (var id in ids)
            {
                // The resend cut off by the kill was never recorded: one manual attempt each.
                var manual = ManualAttempts(await NotificationAsync(http, survivor.Url, id));
                Assert.Single(manual);
                Assert.True(manual[0]!["succeeded"]!.GetValue<bool>());
            }
            Assert.Equal(3 + 1 + 3, receiver.Received.Count);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the expected state was not reached");
            await Task.Delay(100);
        }
    }

    private static List<JsonNode?> ManualAttempts(JsonObject notification) =>
        notification["attempts"]!.AsArray().Where(a => a!["trigger"]!.GetValue<string>() == "manual").ToList();

    private static async Task<JsonArray> NotificationsAsync(HttpClient http, string url, string query) =>
        (await http.GetFromJsonAsync<JsonObject>($"{url}/v1/notifications?{query}"))!["data"]!.AsArray();

    private static async Task<JsonObject> NotificationAsync(HttpClient http, string url, string id) =>
        (await http.GetFromJsonAsync<JsonObject>($"{url}/v1/notifications/{id}"))!;
}
