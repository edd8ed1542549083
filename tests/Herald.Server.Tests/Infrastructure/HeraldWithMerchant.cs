namespace Herald.Server.Tests.Infrastructure;

/// <summary>A Herald node in development mode and one merchant's client, fresh for each test.</summary>
public abstract class HeraldWithMerchant : IAsyncLifetime
{
    protected HeraldHost Herald { get; private set; } = null!;

    /// <summary>The API as the merchant calls it, with its key.</summary>
    protected HttpClient MerchantClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Herald = await HeraldHost.StartAsync();
        MerchantClient = await Herald.NewMerchantAsync();
    }

    public async Task DisposeAsync()
    {
        MerchantClient.Dispose();
        await Herald.DisposeAsync();
    }
}
