using System.Text;
using System.Text.Json.Nodes;
using Herald.Signing;

namespace Herald.Core.Tests.Signing;

/// <summary>The signer against the shared Standard Webhooks vectors (shared/vectors/signature-vectors.json).</summary>
public class SignatureVectorTests
{
    private static readonly Lazy<JsonObject> Vectors = new(Load);

    private static JsonObject Load()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "vectors", "signature-vectors.json");
            if (File.Exists(candidate))
            {
                return JsonNode.Parse(File.ReadAllText(candidate))!.AsObject();
            }
        }
        throw new FileNotFoundException("shared/vectors/signature-vectors.json not found above " + AppContext.BaseDirectory +
            ": the shared folder must sit beside the repository");
    }

    private static JsonArray Section(string name) => Vectors.Value["standard_webhooks"]![name]!.AsArray();

    private static JsonObject Vector(string section, string id) =>
        Section(section).Select(v => v!.AsObject()).Single(v => v["id"]!.GetValue<string>() == id);

    private static byte[] Payload(JsonObject vector)
    {
        if (vector["payload_repeat"] is JsonObject repeat)
        {
            return Encoding.UTF8.GetBytes(new string(repeat["char"]!.GetValue<string>()[0], repeat["count"]!.GetValue<int>()));
        }
        return Encoding.UTF8.GetBytes(vector["payload"]!.GetValue<string>());
    }

    private static string? Text(JsonNode? node) => node?.GetValue<string>();

    public static TheoryData<string> Ids(string section)
    {
        var data = new TheoryData<string>();
        foreach (var v in Section(section))
        {
            data.Add(v!["id"]!.GetValue<string>());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Ids), "sign_vectors")]
    public void Sign_ProducesTheExpectedSignature(string id)
    {
        var v = Vector("sign_vectors", id);
        var timestamp = long.Parse(v["timestamp"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        var signature = WebhookSignature.Sign(v["secret"]!.GetValue<string>(), v["msg_id"]!.GetValue<string>(), timestamp, Payload(v));
        Assert.Equal(v["expected_signature"]!.GetValue<string>(), signature);
    }

    [Theory]
    [MemberData(nameof(Ids), "verify_vectors")]
    public void Verify_AgreesWithTheVector(string id)
    {
        var v = Vector("verify_vectors", id);
        var headers = v["headers"]!.AsObject();
        var msgId = Text(headers["webhook-id"]);
        var timestamp = Text(headers["webhook-timestamp"]);
        var signature = Text(headers["webhook-signature"]);
        var now = DateTimeOffset.FromUnixTimeSeconds(long.Parse(v["verify_at"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        var valid = msgId is not null && timestamp is not null && signature is not null
            && WebhookSignature.Verify(v["secret"]!.GetValue<string>(), msgId, timestamp, signature, Payload(v), now, TimeSpan.FromSeconds(300));
        Assert.Equal(v["expected"]!.GetValue<string>() == "valid", valid);
    }

    [Theory]
    [MemberData(nameof(Ids), "implementation_defined_vectors")]
    public void Verify_RefusesTimestampsThatAreNotPlainDigits(string id)
    {
        // The vectors leave these to the implementation; Herald's receivers refuse them.
        var v = Vector("implementation_defined_vectors", id);
        var headers = v["headers"]!.AsObject();
        var now = DateTimeOffset.FromUnixTimeSeconds(long.Parse(v["verify_at"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(WebhookSignature.Verify(v["secret"]!.GetValue<string>(), Text(headers["webhook-id"])!, Text(headers["webhook-timestamp"])!,
            Text(headers["webhook-signature"])!, Payload(v), now, TimeSpan.FromSeconds(300)));
    }

    [Fact]
    public void SecretParsing_FollowsTheVectors()
    {
        foreach (var v in Section("secret_parsing_vectors").Select(n => n!.AsObject()))
        {
            var secret = v["secret"]!.GetValue<string>();
            var expectOk = v["expected"]!.GetValue<string>().StartsWith("ok", StringComparison.Ordinal);
            Assert.True(expectOk == WebhookSignature.TryDecodeSecret(secret, out _), $"secret '{secret}'");
        }
    }

    [Fact]
    public void NewSecret_IsWhsecAndThirtyTwoRandomBytes()
    {
        var a = WebhookSignature.NewSecret();
        Assert.StartsWith("whsec_", a, StringComparison.Ordinal);
        Assert.True(WebhookSignature.TryDecodeSecret(a, out var key));
        Assert.Equal(32, key.Length);
        Assert.NotEqual(a, WebhookSignature.NewSecret());
    }

    [Fact]
    public void SignatureHeader_WithTwoSecrets_HasTwoEntriesEachVerifying()
    {
        string[] secrets = [WebhookSignature.NewSecret(), WebhookSignature.NewSecret()];
        var body = Encoding.UTF8.GetBytes("{\"id\":1}");
        var header = WebhookSignature.SignatureHeader(secrets, "evt_1", 1_700_000_000, body);
        Assert.Equal(2, header.Split(' ').Length);
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        Assert.All(secrets, s => Assert.True(WebhookSignature.Verify(s, "evt_1", "1700000000", header, body, now, TimeSpan.FromMinutes(5))));
        Assert.False(WebhookSignature.Verify(WebhookSignature.NewSecret(), "evt_1", "1700000000", header, body, now, TimeSpan.FromMinutes(5)));
    }
}
