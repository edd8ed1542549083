namespace Herald.Receiver;

/// <summary>
/// Where Herald is and the merchant key <see cref="HeraldClient"/> reads it with, as
/// <see cref="HeraldClientServiceCollectionExtensions.AddHeraldClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{HeraldClientOptions}?)">AddHeraldClient</see>
/// binds them from configuration (section <c>Herald</c>: <c>Herald:Url</c>, <c>Herald:ApiKey</c>;
/// <c>HERALD__URL</c> and <c>HERALD__APIKEY</c> in the environment).
/// </summary>
public sealed class HeraldClientOptions
{
    /// <summary>The configuration section read by default: <c>Herald</c>.</summary>
    public const string SectionName = "Herald";

    /// <summary>Herald's address, absolute http or https (e.g. <c>https://herald.your-platform.com</c>, or one under a path).</summary>
    public string? Url { get; set; }

    /// <summary>
    /// A merchant API key (<c>hk_…</c>); a read-only one is enough (<c>POST /v1/api_keys {"scope":"read"}</c>).
    /// Spaces and line breaks around it, as a secret file leaves them, are ignored.
    /// </summary>
    public string? ApiKey { get; set; }
}
