using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

/// <summary>
/// A receiver's answer holding the NUL character, which PostgreSQL's text cannot hold, is recorded
/// on both databases alike: the character reads as U+FFFD in the attempt, as a byte that is not
/// UTF-8 does, so the attempt's outcome (and the others written in its transaction) still commits.
/// </summary>
public sealed class NulInAnswerTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnswerBodyHoldingNul_IsRecorded_WithTheCharacterReplaced(bool onPostgres)
    {
        await using var db = onPostgres ? await PostgresDatabase.CreateAsync() : null;
        await using var herald = await HeraldHost.StartAsync(postgres: db?.ConnectionString);
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Status = 500;
        receiver.ResponseBody = "err\0or";
        using var merchant = await herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(receiver.Url, "thin");

        var id = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");

        var n = await merchant.WaitForAttemptsAsync(id, "PAYMENT_ORDER.OPENED", 1);
        var attempt = n["attempts"]![0]!;
        Assert.Equal(500, attempt["status_code"]!.GetValue<int>());
        Assert.Equal("err\uFFFDor", attempt.Str("response_excerpt"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StatusLineHoldingNul_IsRecordedAsAFailure_WithTheCharacterReplaced(bool onPostgres)
    {
        await using var db = onPostgres ? await PostgresDatabase.CreateAsync() : null;
        await using var herald = await HeraldHost.StartAsync(postgres: db?.ConnectionString);
        // Not HTTP at all: .NET's error repeats the line it could not read, NUL included.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                var buffer = new byte[65_536];
                var text = "";
                while (!text.Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var got = await stream.ReadAsync(buffer, stop.Token);
                    if (got == 0)
                    {
                        break;
                    }
                    text += System.Text.Encoding.UTF8.GetString(buffer, 0, got);
                }
                await stream.WriteAsync("\0garbage\r\n\r\n"u8.ToArray(), stop.Token);
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
        });
        try
        {
            using var merchant = await herald.NewMerchantAsync();
            await merchant.AddEndpointAsync($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/hooks", "thin");

            var id = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");

            var n = await merchant.WaitForAttemptsAsync(id, "PAYMENT_ORDER.OPENED", 1);
            var error = n["attempts"]![0]!.Str("error");
            Assert.Contains("\uFFFDgarbage", error, StringComparison.Ordinal);
            Assert.DoesNotContain('\0', error);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await Task.WhenAny(serving, Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }
}
