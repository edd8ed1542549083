using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Delivery;

public sealed class RetryTests : HeraldWithReceiver
{
    [Fact]
    public async Task Receiver500Then200_IsRetriedOnScheduleAndSucceeds()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        Receiver.Status = 500;
        var id = await merchant.NewTransactionAsync();

        var first = await Receiver.WaitForAsync(1);
        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        Assert.Equal("pending", n.Str("status"));
        Assert.Equal(500, n["attempts"]![0]!["status_code"]!.GetValue<int>());
        // Seed 003: resend every hour.
        Assert.Equal(HeraldHost.Start.AddHours(1), DateTimeOffset.Parse(n.Str("next_attempt_at"), System.Globalization.CultureInfo.InvariantCulture));

        // Not before the hour is up.
        Herald.Clock.Advance(TimeSpan.FromMinutes(59));
        await Task.Delay(300);
        Assert.Single(Receiver.Received);

        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromMinutes(1), async () => Receiver.Received.Count >= 2);
        var second = await Receiver.WaitForAsync(2);
        Assert.Equal(first.Headers["webhook-id"], second.Headers["webhook-id"]);
        Assert.Equal("2", second.Headers["webhook-attempt"]);

        n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 2);
        Assert.Equal("succeeded", n.Str("status"));
        Assert.All(n["attempts"]!.AsArray(), a => Assert.Equal("schedule", a!.Str("trigger")));
    }

    [Theory]
    [InlineData(200, "succeeded")]
    [InlineData(500, "pending")]
    public async Task AnswerCutOffMidBody_IsRecordedByItsStatus(int status, string expected)
    {
        // A receiver that announces a body of 100 bytes, sends 9 and closes the connection.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var received = 0;
        _ = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var request = new byte[65536];
                var text = "";
                while (!text.Contains("\r\n\r\n", StringComparison.Ordinal) || !text.EndsWith('}'))
                {
                    var got = await stream.ReadAsync(request);
                    if (got == 0)
                    {
                        break;
                    }
                    text += System.Text.Encoding.UTF8.GetString(request, 0, got);
                }
                Interlocked.Increment(ref received);
                var answer = $"HTTP/1.1 {status} X\r\nContent-Length: 100\r\nConnection: close\r\n\r\ncut short";
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(answer));
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }
        });
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/hooks", "transaction");
        var id = await merchant.NewTransactionAsync();
        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        Assert.Equal(expected, n.Str("status"));
        Assert.Equal(status, n["attempts"]![0]!["status_code"]!.GetValue<int>());
        Assert.Equal("cut short", n["attempts"]![0]!.Str("response_excerpt"));
        // Past the lease, and short of the hour's retry: nothing is sent again.
        Herald.Clock.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(500);
        Assert.Equal(1, Volatile.Read(ref received));
    }

    [Fact]
    public async Task ExponentialEndpoint_RetriesAfterAboutFiveSeconds()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction", new { retry = "exponential" });
        Receiver.Status = 503;
        var id = await merchant.NewTransactionAsync();
        await Receiver.WaitForAsync(1);
        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        var next = DateTimeOffset.Parse(n.Str("next_attempt_at"), System.Globalization.CultureInfo.InvariantCulture) - HeraldHost.Start;
        Assert.InRange(next.TotalSeconds, 4, 6);

        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(6), async () => Receiver.Received.Count >= 2);
        n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 2);
        Assert.Equal("succeeded", n.Str("status"));
    }

    [Fact]
    public async Task TransactionEndpointAnswering201_IsRetriedBecauseOnly200Counts()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        Receiver.Status = 201;
        var id = await merchant.NewTransactionAsync();
        await Receiver.WaitForAsync(1);

        var n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        Assert.Equal("pending", n.Str("status"));
        var attempt = n["attempts"]![0]!;
        Assert.Equal(201, attempt["status_code"]!.GetValue<int>());
        Assert.False(attempt["succeeded"]!.GetValue<bool>());
        Assert.Contains("only 200", attempt.Str("error"), StringComparison.Ordinal);
        Assert.Equal("answer 201", attempt.Str("response_excerpt"));

        Receiver.Status = 200;
        await Herald.AdvanceUntilAsync(TimeSpan.FromHours(1), async () => Receiver.Received.Count >= 2);
        n = await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 2);
        Assert.Equal("succeeded", n.Str("status"));
    }

    [Fact]
    public async Task ThinEndpointAnswering204_Succeeds_AndRedirectIsAFailure()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await using var elsewhere = await TestReceiver.StartAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 302;
        Receiver.Location = elsewhere.Url;
        var order = await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" });
        var id = order.Str("id");
        await Receiver.WaitForAsync(1);
        var n = await merchant.WaitForAttemptsAsync(id, "PAYMENT_ORDER.OPENED", 1);
        Assert.Equal("pending", n.Str("status"));
        Assert.Contains("redirects are not followed", n["attempts"]![0]!.Str("error"), StringComparison.Ordinal);
        Assert.Empty(elsewhere.Received);
        Receiver.Location = null;

        Receiver.Status = 204;
        await Herald.AdvanceUntilAsync(TimeSpan.FromSeconds(6), async () => Receiver.Received.Count >= 2);
        n = await merchant.WaitForAttemptsAsync(id, "PAYMENT_ORDER.OPENED", 2);
        Assert.Equal("succeeded", n.Str("status"));
    }

    [Fact]
    public async Task LongResponse_IsKeptWithTheAttempt_CutAtFourKilobytes()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "thin");
        Receiver.Status = 500;
        Receiver.ResponseBody = new string('x', 4000) + new string('y', 6000);
        var id = (await merchant.PostJsonAsync("/v1/payment_orders", new { amount = 10, currency = "BRL" })).Str("id");
        var n = await merchant.WaitForAttemptsAsync(id, "PAYMENT_ORDER.OPENED", 1);
        var excerpt = n["attempts"]![0]!.Str("response_excerpt");
        Assert.Equal(4096, excerpt.Length);
        Assert.Equal(new string('x', 4000) + new string('y', 96), excerpt);
    }

    [Fact]
    public async Task HourlyEndpointFailingForThreeDays_IsDead()
    {
        using var merchant = await Herald.NewMerchantAsync();
        await merchant.AddEndpointAsync(Receiver.Url, "transaction");
        Receiver.Status = 500;
        var id = await merchant.NewTransactionAsync();
        // The clock moves on only once the first failure is recorded: its retry is scheduled from
        // then, and a failure recorded after the first hour's move would put the next try an hour
        // beyond it.
        await merchant.WaitForAttemptsAsync(id, "TRANSACTION.INIT", 1);
        for (var hour = 1; hour <= 72; hour++)
        {
            var expected = hour + 1;
            await Herald.AdvanceUntilAsync(TimeSpan.FromHours(1), async () =>
                (await merchant.NotificationOfAsync(id, "TRANSACTION.INIT"))["attempt_count"]!.GetValue<int>() >= expected);
        }
        var n = await merchant.NotificationOfAsync(id, "TRANSACTION.INIT");
        Assert.Equal("dead", n.Str("status"));
        Assert.Equal(73, n["attempt_count"]!.GetValue<int>());
        Assert.Null(n["next_attempt_at"]);

        var received = Receiver.Received.Count;
        Herald.Clock.Advance(TimeSpan.FromHours(5));
        await Task.Delay(300);
        Assert.Equal(received, Receiver.Received.Count);
    }
}
