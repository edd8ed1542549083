using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Security;

public sealed class DataFolderTests
{
    [Fact]
    public async Task ANewDataFolder_ItsDatabase_Log_AndKeyRing_AreTheOwnersAlone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        await using var herald = await HeraldHost.StartAsync();
        using var merchant = await herald.NewMerchantAsync();
        // An endpoint's secret is sealed with the key ring, which writes its first key.
        await merchant.AddEndpointAsync("http://127.0.0.1:9/hooks", "thin");

        const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode Folder700 = File600 | UnixFileMode.UserExecute;
        var data = herald.DataDirectory;
        Assert.Equal(Folder700, File.GetUnixFileMode(data));
        // SQLite gives its log and shared memory the database file's permissions.
        foreach (var file in new[] { "herald.db", "herald.db-wal", "herald.db-shm" })
        {
            Assert.Equal((file, File600), (file, File.GetUnixFileMode(Path.Combine(data, file))));
        }
        var keys = Path.Combine(data, "keys");
        Assert.Equal(Folder700, File.GetUnixFileMode(keys));
        Assert.NotEmpty(Directory.GetFiles(keys));
    }

    [Fact]
    public async Task AnExistingDatabaseFile_KeepsThePermissionsItsOperatorGaveIt()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var data = Path.Combine(Path.GetTempPath(), "herald-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var first = await HeraldHost.StartAsync(dataDirectory: data))
            {
                using var merchant = await first.NewMerchantAsync();
            }
            const UnixFileMode Group = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
            File.SetUnixFileMode(Path.Combine(data, "herald.db"), Group);
            await using var again = await HeraldHost.StartAsync(dataDirectory: data);
            using var other = await again.NewMerchantAsync("Other");
            Assert.Equal(Group, File.GetUnixFileMode(Path.Combine(data, "herald.db")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
