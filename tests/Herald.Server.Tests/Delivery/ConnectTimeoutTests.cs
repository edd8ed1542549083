using System.Net;
using System.Net.Sockets;
using Herald.Delivery;
using Herald.Delivery.Sending;
using Herald.Server.Tests.Security;

namespace Herald.Server.Tests.Delivery;

/// <summary>
/// A connection that is not made within the 10 s connecting may take (here a TLS handshake the
/// receiver never answers) is told as such, not as an answer that did not come in the attempt's time.
/// </summary>
public sealed class ConnectTimeoutTests
{
    [Fact]
    public async Task HandshakeNeverAnswered_FailsAfterTenSeconds_SayingTheConnectionWasNotMade()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Taken and held: the client's hello is never answered.
                held.Add(await listener.AcceptSocketAsync(stop.Token));
            }
        });
        try
        {
            using var sender = new WebhookSender(Microsoft.Extensions.Options.Options.Create(new DeliveryOptions { Development = true }), TimeProvider.System);
            var notification = EgressTests.ToMerchantExample(timeoutSeconds: 15) with
            {
                Url = $"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/hooks",
            };

            var result = await sender.SendAsync(notification, 1, CancellationToken.None);

            Assert.False(result.Succeeded);
            Assert.Null(result.StatusCode);
            Assert.InRange(result.DurationMs, 9_000, 14_000);
            Assert.Equal("could not connect: the connection (TCP and TLS) was not made within 10 s", result.Error);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await Task.WhenAny(accepting, Task.Delay(TimeSpan.FromSeconds(5)));
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }
    }
}
