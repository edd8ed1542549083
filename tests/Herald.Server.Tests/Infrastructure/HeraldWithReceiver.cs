namespace Herald.Server.Tests.Infrastructure;

/// <summary>A Herald node in development mode and one merchant receiver, fresh for each test.</summary>
public abstract class HeraldWithReceiver : IAsyncLifetime
{
    protected HeraldHost Herald { get; private set; } = null!;

    protected TestReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Herald = await HeraldHost.StartAsync();
        Receiver = await TestReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Herald.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
