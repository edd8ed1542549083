using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Herald.Cli.Tests.Infrastructure;
using Herald.Signing;

namespace Herald.Cli.Tests.Samples;

/// <summary>
/// The receivers in samples/receivers verify as the receiver kit does: each sample accepts a request
/// exactly when the kit's check (<see cref="WebhookSignature.Verify"/>, which the kit compiles in)
/// accepts it, edge cases included. And a sample says it listens only once it does.
/// </summary>
public sealed class ReceiverSampleVerificationTests
{
    private const string Secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    private const string Base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>A signature over the timestamp as written, whatever its spelling (<see cref="WebhookSignature.Sign"/> writes it plainly).</summary>
    private static string Sign(string id, string timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(Secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    /// <summary>The same signature's bytes spelled otherwise: the last character's unused bits set.</summary>
    private static string Respelled(string signature) =>
        signature[..^2] + Base64Alphabet[Base64Alphabet.IndexOf(signature[^2], StringComparison.Ordinal) ^ 1] + "=";

    private sealed record Case(string Name, string Id, string Timestamp, string Signature, byte[] Body);

    private static IEnumerable<Case> Cases(long now)
    {
        var body = Encoding.UTF8.GetBytes("""{"internalId":"t-1","status":"COMPLETED","paymentAmount":130,"currency":"BRL"}""");
        string Plain(long at) => at.ToString(CultureInfo.InvariantCulture);
        Case Signed(string name, string timestamp) => new(name, "evt_" + name, timestamp, Sign("evt_" + name, timestamp, body), body);

        yield return Signed("as-herald-signs", Plain(now));
        yield return Signed("290-s-old", Plain(now - 290));
        yield return Signed("310-s-old", Plain(now - 310));
        yield return Signed("310-s-ahead", Plain(now + 310));
        yield return Signed("leading-zero", "0" + Plain(now));
        yield return Signed("plus-sign", "+" + Plain(now));
        yield return Signed("fraction", Plain(now) + ".0");
        yield return Signed("milliseconds", Plain(now * 1000));
        var signed = Signed("respelled", Plain(now));
        yield return signed with { Signature = Respelled(signed.Signature) };
        signed = Signed("unpadded", Plain(now));
        yield return signed with { Signature = signed.Signature.TrimEnd('=') };
        signed = Signed("v2-label", Plain(now));
        yield return signed with { Signature = "v2," + signed.Signature[3..] };
        signed = Signed("right-after-wrong", Plain(now));
        yield return signed with { Signature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + signed.Signature };
        signed = Signed("tampered", Plain(now));
        yield return signed with { Body = Encoding.UTF8.GetBytes("""{"internalId":"t-1","status":"COMPLETED","paymentAmount":131,"currency":"BRL"}""") };
    }

    [Theory]
    [InlineData("python3", "receiver.py")]
    [InlineData("node", "receiver.js")]
    public async Task ASample_AcceptsExactlyWhatTheReceiverKitAccepts(string runtime, string file)
    {
        var port = HeraldProcess.FreePort();
        using var receiver = new ReceiverSampleTests.Sample(runtime, [ReceiverSampleTests.SamplePath(file), port.ToString(CultureInfo.InvariantCulture)], Secret);
        await receiver.WaitForAsync("listening on");
        using var client = new HttpClient();

        var disagreements = new List<string>();
        var now = DateTimeOffset.UtcNow;
        foreach (var c in Cases(now.ToUnixTimeSeconds()))
        {
            var kit = WebhookSignature.Verify(Secret, c.Id, c.Timestamp, c.Signature, c.Body, now, TimeSpan.FromMinutes(5));
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/webhooks") { Content = new ByteArrayContent(c.Body) };
            request.Headers.TryAddWithoutValidation("webhook-id", c.Id);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", c.Timestamp);
            request.Headers.TryAddWithoutValidation("webhook-signature", c.Signature);
            var answer = (await client.SendAsync(request)).StatusCode;
            if (answer != (kit ? HttpStatusCode.OK : HttpStatusCode.Unauthorized))
            {
                disagreements.Add($"{c.Name}: the kit {(kit ? "accepts" : "refuses")} it, {file} answers {(int)answer}");
            }
        }
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements) + "\n" + receiver.Output);
    }

    [Theory]
    [InlineData("python3", "receiver.py")]
    [InlineData("node", "receiver.js")]
    public async Task ASampleOnAPortTakenAlready_StopsWithoutSayingItListens(string runtime, string file)
    {
        // What starts a sample (a script, a test) waits for "listening on" before sending to it.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var receiver = new ReceiverSampleTests.Sample(runtime, [ReceiverSampleTests.SamplePath(file), port.ToString(CultureInfo.InvariantCulture)], Secret);

        Assert.NotEqual(0, await receiver.ExitAsync());
        Assert.DoesNotContain("listening on", receiver.Output, StringComparison.Ordinal);
        // Said in one line, not in a traceback or a stack.
        var line = Assert.Single(receiver.Output.Trim().Split('\n'));
        Assert.StartsWith($"cannot listen on 127.0.0.1:{port}: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("python3", "receiver.py", "abc")]
    [InlineData("node", "receiver.js", "abc")]
    [InlineData("python3", "receiver.py", "70000")]
    [InlineData("node", "receiver.js", "0")]
    public async Task ASampleGivenAPortThatIsNone_SaysSoInOneLine(string runtime, string file, string port)
    {
        using var receiver = new ReceiverSampleTests.Sample(runtime, [ReceiverSampleTests.SamplePath(file), port], Secret);

        Assert.NotEqual(0, await receiver.ExitAsync());
        Assert.Equal($"the port is a number from 1 to 65535, not '{port}'", receiver.Output.Trim());
    }
}
