using System.Net;
using System.Net.Http.Json;
using Herald.Server.Auth;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Server.Tests.Security;

public sealed class ApiKeyTests
{
    [Fact]
    public async Task MerchantCreatesAKey_ItWorks_ThenRevokedItIs401()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var created = await merchant.PostJsonAsync("/v1/api_keys", new { });
        var key = created.Str("api_key");
        Assert.StartsWith("hk_", key, StringComparison.Ordinal);

        using var second = herald.As(key);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/v1/notifications")).StatusCode);
        var listed = (await merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, k => Assert.Null(k!["api_key"]));

        var revoke = await merchant.DeleteAsync($"/v1/api_keys/{created.Str("id")}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var refused = await second.GetAsync("/v1/notifications");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // Revoked already: said so (the key is there, GET reads it), not that there is no such key.
        var revokedAt = (await merchant.GetJsonAsync($"/v1/api_keys/{created.Str("id")}")).Str("revoked_at");
        var again = await merchant.DeleteAsync($"/v1/api_keys/{created.Str("id")}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal($"API key {created.Str("id")} is revoked already (at {revokedAt}): nothing changed",
            System.Text.Json.Nodes.JsonNode.Parse(await again.Content.ReadAsStringAsync())!["message"]![0]!.GetValue<string>());
        Assert.Equal(revokedAt, (await merchant.GetJsonAsync($"/v1/api_keys/{created.Str("id")}")).Str("revoked_at"));
        // Its holder is told the key was revoked, and when (a mistyped key is only "invalid").
        Assert.Equal($"this API key was revoked (at {revokedAt}); use another of the merchant's keys",
            System.Text.Json.Nodes.JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["message"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/v1/notifications")).StatusCode);

        using var other = await herald.NewMerchantAsync("Other");
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/v1/api_keys/{created.Str("id")}")).StatusCode);
    }

    [Fact]
    public async Task AReadKey_ReadsEverythingTheMerchantMay_AndChangesNothing()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        var order = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        var created = await merchant.PostJsonAsync("/v1/api_keys", new { scope = "read" });
        Assert.Equal("read", created.Str("scope"));
        using var reader = herald.As(created.Str("api_key"));
        // Kept so that a lookup as an earlier release makes it (the key's plain hash) finds nothing:
        // a node of that release, or a rollback, refuses the key rather than take it for a full one.
        var store = herald.Services.GetRequiredService<Herald.Storage.Abstractions.IHeraldStore>();
        Assert.DoesNotContain(await store.FindApiKeysByHashAsync([ApiKeys.Hash(created.Str("api_key"))]), k => k.RevokedAt is null);

        // What a receiver fetching a thin event's order needs, and every other read.
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/payment_orders/{order}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/notifications"))).StatusCode);

        // Nothing that changes anything: refused before it is read, in the error shape.
        var refused = await reader.PostAsJsonAsync("/v1/endpoints", new { url = "http://127.0.0.1:9/hooks", format = "thin" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("this API key is read-only (scope read): it may only read (GET, HEAD); POST needs a full key",
            (await refused.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["message"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/v1/api_keys", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync($"/v1/api_keys/{created.Str("id")}")).StatusCode);
        Assert.Empty((await merchant.GetJsonAsync("/v1/endpoints"))["data"]!.AsArray());

        // Keys list their scope; made before scopes, or without one, a key is full.
        var listed = (await merchant.GetJsonAsync("/v1/api_keys"))["data"]!.AsArray();
        Assert.Equal(["full", "read"], listed.Select(k => k!["scope"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var wrong = await merchant.PostAsJsonAsync("/v1/api_keys", new { scope = "admin" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("scope must be full (everything the merchant may) or read (GET only), not 'admin'", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The admin issues one too.
        using var admin = herald.As(HeraldHost.AdminKey);
        var shop = (await admin.PostJsonAsync("/v1/merchants", new { name = "Shop" })).Str("id");
        var issued = await admin.PostJsonAsync($"/v1/merchants/{shop}/api_keys", new { scope = "read" });
        Assert.Equal("read", issued.Str("scope"));
        using var shopReader = herald.As(issued.Str("api_key"));
        Assert.Equal(HttpStatusCode.Forbidden, (await shopReader.PostAsJsonAsync("/v1/payment_orders", new { amount = 1, currency = "BRL" })).StatusCode);
    }

    [Fact]
    public async Task AKeyAskedWithAnEmptyScope_Is400_AndNoKeyIsMade()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        using var admin = herald.As(HeraldHost.AdminKey);
        var shop = (await admin.PostJsonAsync("/v1/merchants", new { name = "Shop" })).Str("id");

        // {"scope":"$SCOPE"} with the variable unset: meant read, most likely, and never to be full.
        foreach (var (client, path) in new[] { (merchant, "/v1/api_keys"), (admin, $"/v1/merchants/{shop}/api_keys") })
        {
            var before = (await client.GetJsonAsync(path))["data"]!.AsArray().Count;
            var refused = await client.PostAsJsonAsync(path, new { scope = "" });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("scope is empty: give full or read, or leave it out for a full key", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(before, (await client.GetJsonAsync(path))["data"]!.AsArray().Count);
        }
        // Left out, or null, it is a full key as before.
        Assert.Equal("full", (await merchant.PostJsonAsync("/v1/api_keys", new { scope = (string?)null })).Str("scope"));
        Assert.Equal("full", (await merchant.PostJsonAsync("/v1/api_keys", new { })).Str("scope"));
    }

    [Fact]
    public async Task WithoutAConfiguredAdminKey_OneIsMadeOnce_KeptInTheDataFolder_AndAcceptedAfterARestart()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            string made;
            await using (var first = await HeraldHost.StartAsync(dataDirectory: data, tune: o => o.AdminKey = null))
            {
                var key = first.Services.GetRequiredService<AdminKey>();
                made = key.Shown!;
                Assert.StartsWith("hk_admin_", made, StringComparison.Ordinal);
                Assert.Equal(made, (await File.ReadAllTextAsync(Path.Combine(data, AdminKey.FileName))).Trim());
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, AdminKey.FileName)));
                }
                using var admin = first.As(made);
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/merchants", new { name = "First" })).StatusCode);
            }
            await using var again = await HeraldHost.StartAsync(dataDirectory: data, tune: o => o.AdminKey = null);
            Assert.Null(again.Services.GetRequiredService<AdminKey>().Shown);
            using var stillAdmin = again.As(made);
            Assert.Equal(HttpStatusCode.Created, (await stillAdmin.PostAsJsonAsync("/v1/merchants", new { name = "Again" })).StatusCode);
            using var configuredOne = again.As(HeraldHost.AdminKey);
            Assert.Equal(HttpStatusCode.Unauthorized, (await configuredOne.PostAsJsonAsync("/v1/merchants", new { name = "Nope" })).StatusCode);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AnAdminKeyGivenLater_ReplacesTheOneTheFolderKept_WhichNoLongerWorksEvenAtAStartWithoutIt()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            string made;
            await using (var first = await HeraldHost.StartAsync(dataDirectory: data, tune: o => o.AdminKey = null))
            {
                made = first.Services.GetRequiredService<AdminKey>().Shown!;
            }
            // The operator sets HERALD_ADMIN_KEY: the key made before is gone from the folder.
            await using (var given = await HeraldHost.StartAsync(dataDirectory: data))
            {
                Assert.Equal(Path.Combine(data, AdminKey.FileName), given.Services.GetRequiredService<AdminKey>().Removed);
                Assert.False(File.Exists(Path.Combine(data, AdminKey.FileName)));
                using var old = given.As(made);
                Assert.Equal(HttpStatusCode.Unauthorized, (await old.PostAsJsonAsync("/v1/merchants", new { name = "Old" })).StatusCode);
            }
            // Started without the variable again: the old key does not come back; a new one is made and shown.
            await using var after = await HeraldHost.StartAsync(dataDirectory: data, tune: o => o.AdminKey = null);
            var fresh = after.Services.GetRequiredService<AdminKey>().Shown;
            Assert.NotNull(fresh);
            Assert.NotEqual(made, fresh);
            using var stale = after.As(made);
            Assert.Equal(HttpStatusCode.Unauthorized, (await stale.PostAsJsonAsync("/v1/merchants", new { name = "Stale" })).StatusCode);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AConfiguredAdminKeyTooShortToBeASecret_KeepsTheNodeFromStarting_AndMakesNothing()
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => HeraldHost.StartAsync(dataDirectory: data, tune: o => o.AdminKey = "changeme"));
            Assert.StartsWith("HERALD_ADMIN_KEY is too short to be a secret: give at least 24 characters", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, AdminKey.FileName)));
            Assert.False(File.Exists(Path.Combine(data, "herald.db")));
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
    public async Task AKeyMadeForASharedDatabase_IsWrittenOnlyOnceTheDatabaseTookIt()
    {
        var data = Directory.CreateTempSubdirectory("herald-test-").FullName;
        try
        {
            var file = Path.Combine(data, AdminKey.FileName);
            // The database fails: nothing is left behind to be taken for the key next time.
            var failing = AdminKey.Resolve(null, data, shared: true);
            await Assert.ThrowsAsync<IOException>(() => failing.ShareAsync((_, _) => throw new IOException("database away")));
            Assert.False(File.Exists(file));
            Assert.Null(failing.Shown);

            // Another node got there first: its key is the one accepted, and no file is written.
            var others = "hk_admin_" + new string('o', 32);
            var late = AdminKey.Resolve(null, data, shared: true);
            await late.ShareAsync((_, replace) => Task.FromResult(ApiKeys.Hash(others)));
            Assert.True(late.FromDatabase);
            Assert.True(late.Matches(others));
            Assert.False(File.Exists(file));

            // The database takes it: written, shown, accepted.
            var first = AdminKey.Resolve(null, data, shared: true);
            await first.ShareAsync((hash, _) => Task.FromResult(hash));
            Assert.Equal(first.Shown, (await File.ReadAllTextAsync(file)).Trim());
            Assert.True(first.Matches(first.Shown!));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task OnlyAGivenAdminKey_ReplacesTheSharedOne_AKeyFileIsKeptOnlyWhereNoneIs()
    {
        var data = Directory.CreateTempSubdirectory("herald-test-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(data, AdminKey.FileName), "hk_admin_" + new string('f', 32) + "\n");
            bool? replaced = null;
            var fromFile = AdminKey.Resolve(null, data, shared: true);
            await fromFile.ShareAsync((hash, replace) => { replaced = replace; return Task.FromResult(hash); });
            Assert.False(replaced);
            Assert.True(fromFile.Matches("hk_admin_" + new string('f', 32)));

            var given = AdminKey.Resolve("hk_admin_given_0123456789", data, shared: true);
            await given.ShareAsync((hash, replace) => { replaced = replace; return Task.FromResult(hash); });
            Assert.True(replaced);
            Assert.True(given.Matches("hk_admin_given_0123456789"));
            Assert.False(given.Matches("hk_admin_" + new string('f', 32)));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ThePathInAnotherCase_IsAuthenticatedLikeItsRoute()
    {
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        // Routes match without regard to case; the key must be read for them all the same.
        Assert.Equal(HttpStatusCode.OK, (await merchant.GetAsync("/V1/notifications")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await herald.Client.GetAsync("/V1/notifications")).StatusCode);
    }
}
