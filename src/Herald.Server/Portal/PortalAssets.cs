using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Portal;

/// <summary>The portal's stylesheet and script, embedded in Herald: nothing is fetched from elsewhere.</summary>
internal static class PortalAssets
{
    private static readonly Dictionary<string, (byte[] Content, string Type)> Files = Load();

    public static void Map(WebApplication app)
    {
        app.MapGet(PortalServiceCollectionExtensions.BasePath + "/assets/{name}", (string name, HttpContext http) =>
        {
            if (!Files.TryGetValue(name, out var file))
            {
                return Results.NotFound();
            }
            http.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Bytes(file.Content, file.Type);
        }).ExcludeFromDescription();
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(PortalAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("portal.css", "text/css; charset=utf-8"), ("portal.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("Herald.Server.Portal.Assets." + name)
                ?? throw new InvalidOperationException($"the portal asset {name} is not embedded");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name] = (copy.ToArray(), type);
        }
        return files;
    }
}
