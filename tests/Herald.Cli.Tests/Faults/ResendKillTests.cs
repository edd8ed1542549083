using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Herald.Cli.Tests.Infrastructure;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Cli.Tests.Faults;

/// <summary>A node holding resends killed with SIGKILL: on PostgreSQL beside another node, on SQLite alone and started again.</summary>
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
            var ids = await ThreeResendsOneInFlightAsync(http, survivor.Url, doomed.Url, receiver);
            doomed.Kill();
            receiver.Release();

            // Once the dead node's hold (one 10 s lease) has run out, the survivor makes them.
            await AssertMadeOnceAsync(http, survivor.Url, ids, receiver);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact]
    public async Task ResendsTakenOnByANodeKilledOnSqlite_AreMadeAfterItsRestart_OnceItsHoldRunsOut_EachOnce()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "herald-resend-kill-" + Guid.NewGuid().ToString("N"));
        string[] args = ["--dev", "--data", data, "--lease-seconds", "10", "--rate-limit", "0"];
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            await using (var doomed = await HeraldProcess.ServeAsync(args))
            {
                var ids = await ThreeResendsOneInFlightAsync(http, doomed.Url, doomed.Url, receiver);
                doomed.Kill();
                receiver.Release();
                await using var restarted = await HeraldProcess.ServeAsync(args);
                // The kept resends are still the killed node's until its hold runs out; then the restart makes them.
                await AssertMadeOnceAsync(http, restarted.Url, ids, receiver);
            }
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>
    /// A merchant whose three notifications were delivered, then resent through
    /// <paramref name="resendingUrl"/> one at a time (the endpoint's max_concurrency): the receiver
    /// holds the first resend, the other two wait their turn. Answers the notifications' ids; the
    /// client carries the merchant's key.
    /// </summary>
    private static async Task<List<string>> ThreeResendsOneInFlightAsync(HttpClient http, string url, string resendingUrl, TestReceiver receiver)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", HeraldProcess.AdminKey);
        var merchant = await (await http.PostAsJsonAsync(url + "/v1/merchants", new { name = "Shop" })).Content.ReadFromJsonAsync<JsonObject>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", merchant!["api_key"]!.GetValue<string>());
        var endpoint = await (await http.PostAsJsonAsync(url + "/v1/endpoints", new { url = receiver.Url, format = "thin" })).Content.ReadFromJsonAsync<JsonObject>();
        for (var i = 0; i < 3; i++)
        {
            (await http.PostAsJsonAsync(url + "/v1/payment_orders", new { amount = i + 1, currency = "BRL" })).EnsureSuccessStatusCode();
        }
        await receiver.WaitForAsync(3);
        await EventuallyAsync(async () => (await NotificationsAsync(http, url, "status=succeeded&limit=100")).Count == 3);
        var ids = (await NotificationsAsync(http, url, "limit=100")).Select(n => n!["id"]!.GetValue<string>()).ToList();
        // Through the node that will send the resends: its own write drops what it kept in memory.
        (await http.PatchAsJsonAsync(resendingUrl + $"/v1/endpoints/{endpoint!["id"]!.GetValue<string>()}", new { max_concurrency = 1 })).EnsureSuccessStatusCode();
        receiver.Hold();
        foreach (var id in ids)
        {
            using var accepted = await http.PostAsJsonAsync(resendingUrl + $"/v1/notifications/{id}/resend", new { });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        }
        await receiver.WaitForAsync(4);
        return ids;
    }

    /// <summary>Each notification gets one manual attempt in all (the one the kill cut off was never recorded), and nothing more arrives.</summary>
    private static async Task AssertMadeOnceAsync(HttpClient http, string url, List<string> ids, TestReceiver receiver)
    {
        foreach (var id in ids)
        {
            await EventuallyAsync(async () => ManualAttempts(await NotificationAsync(http, url, id)).Count > 0, TimeSpan.FromSeconds(60));
        }
        await Task.Delay(1_000);
        foreach (var id in ids)
        {
            var manual = ManualAttempts(await NotificationAsync(http, url, id));
            Assert.Single(manual);
            Assert.True(manual[0]!["succeeded"]!.GetValue<bool>());
        }
        Assert.Equal(3 + 1 + 3, receiver.Received.Count);
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
