using System.Globalization;
using System.Net;
using System.Text;
using Herald.Receiver.Tests.Infrastructure;
using Herald.Receiver.Verification;
using Herald.Signing;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Verification;

/// <summary>A refused request says why: in <see cref="SignatureCheck"/>, in the app's log and in the 401's text.</summary>
public sealed class RefusalReasonTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(Signed.Transaction);

    private static SignatureCheck Check(string?[] secrets, string? id, long? at, string? signature = null, string? timestamp = null)
    {
        timestamp ??= at?.ToString(CultureInfo.InvariantCulture);
        signature ??= id is null || at is null ? null : WebhookSignature.Sign(Signed.Secret, id, at.Value, Body);
        return SignatureCheck.Verify(secrets, id, timestamp, signature, Body, Now, TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void SignedWithinTheTolerance_IsValid_WithNoReason()
    {
        var check = Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds() - 299);
        Assert.True(check.IsValid);
        Assert.Null(check.Failure);
        Assert.Equal("", check.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("|  |\n")]
    [InlineData("whsec_…")]
    [InlineData("whsec_REPLACE_ME!|whsec_")]
    [InlineData("changeme")]
    [InlineData("whsec_xxx")]
    [InlineData("whsec_changeme")]
    [InlineData("c2VjcmV0")]
    public void NoSecretThatCanSign_IsNoUsableSecret(string secrets)
    {
        var check = Check(secrets.Length == 0 ? [] : secrets.Split('|'), "evt_1", Now.ToUnixTimeSeconds());
        Assert.Equal(SignatureFailure.NoUsableSecret, check.Failure);
        Assert.Contains("no usable secret", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingHeaders_AreNamed()
    {
        var check = SignatureCheck.Verify([Signed.Secret], "evt_1", "", null, Body, Now, TimeSpan.FromMinutes(5));
        Assert.Equal(SignatureFailure.MissingHeaders, check.Failure);
        Assert.Equal("missing webhook-timestamp, webhook-signature", check.Reason);
    }

    [Theory]
    [InlineData("01800000000")]
    [InlineData("+1800000000")]
    [InlineData("1800000000.5")]
    public void ATimestampNotWrittenAsHeraldWritesIt_IsMalformed(string timestamp)
    {
        var check = Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds(), timestamp: timestamp);
        Assert.Equal(SignatureFailure.MalformedTimestamp, check.Failure);
    }

    [Fact]
    public void ATimestampPastTheTolerance_IsTooOld_WithItsSkew()
    {
        var check = Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds() - 412);
        Assert.Equal(SignatureFailure.TimestampTooOld, check.Failure);
        Assert.Equal(412, check.SkewSeconds);
        Assert.Equal("timestamp too old: 412 s behind this machine's clock (tolerance 300 s)", check.Reason);
    }

    [Fact]
    public void ATimestampBeyondTheTolerance_IsTooNew_WithItsSkew()
    {
        var check = Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds() + 301);
        Assert.Equal(SignatureFailure.TimestampTooNew, check.Failure);
        Assert.Equal(-301, check.SkewSeconds);
        Assert.Equal("timestamp too new: 301 s ahead of this machine's clock (tolerance 300 s)", check.Reason);
    }

    [Fact]
    public void AnotherSecretsSignature_IsNoMatchingSignature()
    {
        var other = WebhookSignature.NewSecret();
        var check = Check([other], "evt_1", Now.ToUnixTimeSeconds());
        Assert.Equal(SignatureFailure.NoMatchingSignature, check.Failure);
        Assert.Equal("no signature matches the configured secrets", check.Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TheRightMacSpelledOtherwiseThanHeraldWritesIt_IsNoMatchingSignature(int unusedBits)
    {
        // A 32-byte MAC in base64 ends in a character two of whose bits are unused: setting them
        // spells the same bytes otherwise, which the sample receivers (and the Standard Webhooks
        // libraries), comparing the text, refuse.
        var signature = WebhookSignature.Sign(Signed.Secret, "evt_1", Now.ToUnixTimeSeconds(), Body);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var last = Alphabet[Alphabet.IndexOf(signature[^2], StringComparison.Ordinal) ^ unusedBits];
        var respelled = signature[..^2] + last + "=";
        Assert.Equal(Convert.FromBase64String(signature[3..]), Convert.FromBase64String(respelled[3..]));

        var check = Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds(), signature: respelled);

        Assert.Equal(SignatureFailure.NoMatchingSignature, check.Failure);
        Assert.True(Check([Signed.Secret], "evt_1", Now.ToUnixTimeSeconds(), signature: respelled + " " + signature).IsValid);
    }

    [Fact]
    public async Task AStaleRequest_Is401_AndTheKitLogsWhyWithoutSecretOrBody()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        await using var app = await ReceiverApp.StartAsync(options, (_, _) => Task.CompletedTask, logs);

        using var stale = Signed.Request("evt_stale", Signed.Transaction, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10));
        var response = await app.Client.SendAsync(stale);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("timestamp too old", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var entry = Assert.Single(logs.Receiver);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal(6000, entry.EventId);
        Assert.Matches(@"Refused a notification at /webhooks with 401: timestamp too old: 60\d s behind", entry.Message);
        Assert.Contains("evt_stale", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Signed.Secret["whsec_".Length..], entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("internalId", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnverifiedRequestsLongId_IsLoggedCutShort()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        await using var app = await ReceiverApp.StartAsync(options, (_, _) => Task.CompletedTask, logs);

        // Anyone may send any id, up to the web server's header limit: the log keeps 64 characters of it.
        var id = "evt_" + new string('x', 8_000);
        using var forged = Signed.Request(id, Signed.Transaction, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(forged)).StatusCode);

        var entry = Assert.Single(logs.Receiver);
        Assert.Contains($"(webhook-id '{id[..64]}…')", entry.Message, StringComparison.Ordinal);
        Assert.True(entry.Message.Length < 300, entry.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task APlaceholderSecret_RefusesEveryRequest_AndTheKitLogsThatNoSecretCanSign()
    {
        var logs = new LogSink();
        var options = new HeraldWebhookOptions();
        options.Secrets.Add("whsec_…");
        var runs = 0;
        await using var app = await ReceiverApp.StartAsync(options, (_, _) => { runs++; return Task.CompletedTask; }, logs);

        using var request = Signed.Request("evt_placeholder", Signed.Transaction, DateTimeOffset.UtcNow);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(request)).StatusCode);
        Assert.Equal(0, runs);
        var entry = Assert.Single(logs.Receiver);
        Assert.Contains("no usable secret is configured", entry.Message, StringComparison.Ordinal);
        // The app's misconfiguration, not a stranger's request: a warning, which an app logging
        // warnings and above still shows.
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(6011, entry.EventId);
    }
}
