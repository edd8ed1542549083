namespace Herald.Server.Auth;

/// <summary>
/// The operator's key, which manages merchants: given by <c>HERALD_ADMIN_KEY</c>, or generated on
/// first start and kept in the data folder (readable by its owner only).
/// </summary>
public sealed record AdminKey(string Value, bool Generated, string? Path)
{
    public const string FileName = "admin.key";

    public static AdminKey Resolve(string? configured, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new AdminKey(configured.Trim(), false, null);
        }
        Directory.CreateDirectory(dataDirectory);
        var path = System.IO.Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return new AdminKey(File.ReadAllText(path).Trim(), false, path);
        }
        var key = "hk_admin_" + ApiKeys.NewKey()[ApiKeys.Prefix.Length..];
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, fileOptions))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key);
        }
        return new AdminKey(key, true, path);
    }
}
