using System.Globalization;
using System.Net;
using System.Text;
using Herald.Cli.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Cli.Tests.Samples;

/// <summary>
/// What the receivers in samples/receivers answer to a body that is signed but is not a JSON object:
/// as the receiver kit does (an <c>OtherEvent</c>), it is verified, handled once and acknowledged,
/// never answered 500 as if the receiver had failed.
/// </summary>
public sealed class ReceiverSampleBodyTests
{
    private const string Secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    [Theory]
    [InlineData("python3", "receiver.py")]
    [InlineData("node", "receiver.js")]
    public async Task ASignedBodyThatIsNotAJsonObject_IsVerifiedAndHandledOnce_NotAnswered500(string runtime, string file)
    {
        var port = HeraldProcess.FreePort();
        using var receiver = new ReceiverSampleTests.Sample(runtime, [ReceiverSampleTests.SamplePath(file), port.ToString(CultureInfo.InvariantCulture)], Secret);
        await receiver.WaitForAsync("listening on");
        using var client = new HttpClient();

        string[] bodies = ["not json", "", "null", "[1,2]", "\"COMPLETED\"", "12.50", "{\"status\":", new string('[', 100_000)];
        for (var i = 0; i < bodies.Length; i++)
        {
            var id = $"evt_notjson{i}";
            var body = Encoding.UTF8.GetBytes(bodies[i]);
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var signature = WebhookSignature.Sign(Secret, id, now, body);
            for (var send = 0; send < 2; send++)
            {
                using var request = ReceiverSampleTests.Notification(port, "/webhooks", id, now, signature, body);
                var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{runtime} answered {(int)response.StatusCode} to '{bodies[i][..Math.Min(20, bodies[i].Length)]}': {receiver.Output}");
            }
            await receiver.WaitForAsync($"verified {id} attempt=1 (not a JSON object)");
            await receiver.WaitForAsync($"duplicate {id} attempt=1 (handled already)");
        }
        Assert.DoesNotContain("failed:", receiver.Output, StringComparison.Ordinal);
    }
}
