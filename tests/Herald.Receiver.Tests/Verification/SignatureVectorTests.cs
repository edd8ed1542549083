using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Herald.Receiver.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Receiver.Tests.Verification;

/// <summary>Every Standard Webhooks vector, sent over HTTP to MapHeraldWebhooks.</summary>
public sealed class SignatureVectorTests
{
    private static JsonObject Vectors()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "vectors", "signature-vectors.json");
            if (File.Exists(candidate))
            {
                return JsonNode.Parse(File.ReadAllText(candidate))!["standard_webhooks"]!.AsObject();
            }
        }
        throw new FileNotFoundException("shared/vectors/signature-vectors.json not found: the shared folder must sit beside the repository");
    }

    public static TheoryData<string> VerifyIds()
    {
        var data = new TheoryData<string>();
        foreach (var v in Vectors()["verify_vectors"]!.AsArray())
        {
            data.Add(v!["id"]!.GetValue<string>());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(VerifyIds))]
    public async Task Receiver_AcceptsValidAndRefusesInvalidVectors(string id)
    {
        var v = Vectors()["verify_vectors"]!.AsArray().Select(n => n!.AsObject()).Single(n => n["id"]!.GetValue<string>() == id);
        var options = new HeraldWebhookOptions
        {
            TimeProvider = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(long.Parse(v["verify_at"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture))),
        };
        options.Secrets.Add(v["secret"]!.GetValue<string>());
        await using var app = await ReceiverApp.StartCountingAsync(options);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(v["payload"]!.GetValue<string>())),
        };
        foreach (var (name, value) in v["headers"]!.AsObject())
        {
            request.Headers.TryAddWithoutValidation(name, value!.GetValue<string>());
        }
        var response = await app.Client.SendAsync(request);
        if (v["expected"]!.GetValue<string>() == "valid")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, app.Handled);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(0, app.Handled);
        }
    }

    [Theory]
    [InlineData(262143)]
    [InlineData(262144)]
    [InlineData(1048576)]
    public async Task Receiver_VerifiesLargeBodiesByTheirRawBytes(int size)
    {
        var v = Vectors()["sign_vectors"]!.AsArray().Select(n => n!.AsObject()).Single(n => n["id"]!.GetValue<string>() == $"sw-sign-large-{size}");
        var options = new HeraldWebhookOptions
        {
            TimeProvider = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(long.Parse(v["timestamp"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture))),
            MaxBodyBytes = 2 * 1024 * 1024,
        };
        options.Secrets.Add(v["secret"]!.GetValue<string>());
        await using var app = await ReceiverApp.StartCountingAsync(options);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(new string('a', size))) };
        request.Headers.Add("webhook-id", v["msg_id"]!.GetValue<string>());
        request.Headers.Add("webhook-timestamp", v["timestamp"]!.ToString());
        // Two signatures, as during a secret rotation: one wrong, one right.
        request.Headers.Add("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + v["expected_signature"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(request)).StatusCode);
        Assert.Equal(1, app.Handled);
    }

    [Fact]
    public async Task SecretsWithLineBreaksOrEmptyEntries_StillVerify_AndABadSignatureIs401Not500()
    {
        var options = new HeraldWebhookOptions();
        // Read from a file (a trailing line break), and an entry left empty by configuration.
        options.Secrets.Add("");
        options.Secrets.Add(null!);
        options.Secrets.Add(" " + Signed.Secret + "\r\n");
        await using var app = await ReceiverApp.StartCountingAsync(options);

        using (var good = Herald.Receiver.Tests.Infrastructure.Signed.Request("evt_trimmed", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(good)).StatusCode);
        }
        using (var bad = Herald.Receiver.Tests.Infrastructure.Signed.Request("evt_forged", Signed.Transaction, DateTimeOffset.UtcNow))
        {
            bad.Headers.Remove("webhook-signature");
            bad.Headers.Add("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(bad)).StatusCode);
        }
        Assert.Equal(1, app.Handled);
    }
}
