using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Portal;

/// <summary>The portal's stylesheet and script, embedded in Herald: nothing is fetched from elsewhere.</summary>
internal static class PortalAssets
{
    private static readonly Dictionary<string, (byte[] Content, string Type, string Version)> Files = Load();

    /// <summary>
    /// The address the pages load an asset from, named by its content: a browser keeps it for good,
    /// and a Herald with another stylesheet or script gives it another address, never the old one kept.
    /// </summary>
    public static string Url(string name) => $"{PortalServiceCollectionExtensions.BasePath}/assets/{name}?v={Files[name].Version}";

    public static void Map(WebApplication app)
    {
        app.MapGet(PortalServiceCollectionExtensions.BasePath + "/assets/{name}", (string name, HttpContext http) =>
        {
            if (!Files.TryGetValue(name, out var file))
            {
                return Results.NotFound();
            }
            // Asked for by the address of this very content: it never changes. Otherwise (no version,
            // or an older Herald's), checked again on each use.
            http.Response.Headers.CacheControl = http.Request.Query["v"] == file.Version ? "public, max-age=31536000, immutable" : "no-cache";
            return Results.Bytes(file.Content, file.Type);
        }).ExcludeFromDescription();
    }

    private static Dictionary<string, (byte[], string, string)> Load()
    {
        var assembly = typeof(PortalAssets).Assembly;
        var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("portal.css", "text/css; charset=utf-8"), ("portal.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("Herald.Server.Portal.Assets." + name)
                ?? throw new InvalidOperationException($"the portal asset {name} is not embedded");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            files[name] = (content, type, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content))[..12]);
        }
        return files;
    }
}
