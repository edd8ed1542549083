using System.Net;
using System.Text;
using Herald.Receiver.Events;
using Herald.Receiver.Tests.Infrastructure;

namespace Herald.Receiver.Tests.Events;

public sealed class HeraldEventParserTests
{
    private static HeraldEvent Parse(string body) => HeraldEventParser.Parse("evt_1", DateTimeOffset.UnixEpoch, 1, Encoding.UTF8.GetBytes(body));

    [Fact]
    public void AnEndpointTestsNotification_IsAnOtherEventMarkedAsTest()
    {
        var evt = Parse("""{"id":"evt_1","event_type":"HERALD.TEST","test":true,"endpoint_id":"ep_1","format":"thin","sent_at":"2026-12-05T10:00:00Z"}""");
        Assert.True(Assert.IsType<OtherEvent>(evt).IsTest);
    }

    [Theory]
    [InlineData("""{"event_type":"SOMETHING.ELSE"}""")]
    [InlineData("""{"event_type":7}""")]
    [InlineData("""{"id":"evt_1"}""")]
    [InlineData("not json")]
    public void AnyOtherPayload_IsNotATest(string body) => Assert.False(Assert.IsType<OtherEvent>(Parse(body)).IsTest);

    [Theory]
    [InlineData("""{"internalId":"a","internalId":"b","status":"COMPLETED"}""")]
    [InlineData("""{"internalId":"a","status":"COMPLETED","customer":{"name":"x","name":"y"}}""")]
    public void ABodyGivingAKeyTwice_IsAnOtherEventWithItsText_NotAnError(string body)
    {
        var other = Assert.IsType<OtherEvent>(Parse(body));
        Assert.Equal(body, other.Body);
        Assert.Empty(other.Payload);
    }

    /// <summary>Bodies of each format with a text escaped as a lone surrogate: JSON by its grammar, yet no text.</summary>
    public static TheoryData<string> BodiesWithALoneSurrogate() => new()
    {
        """{"internalId":"t-1","status":"COMPLETED","paymentAmount":130,"customer":{"name":"Jo\ud800"}}""",
        """{"id":"pi_1","state":"FINISHED","amount":100,"caller_id":1,"client_id":2,"created_at":"2026-12-05 21:58:36","additional_info":{"external_reference":"\udc00"}}""",
        """{"id":"evt_1","event_type":"PAYMENT_ORDER.CLOSED\ud83d","entity_type":"PAYMENT_ORDER","entity_id":"po_1"}""",
        """{"internalId":"t-1","status":"COMPLETED","\ud800":1}""",
    };

    [Theory]
    [MemberData(nameof(BodiesWithALoneSurrogate))]
    public async Task ASignedBodyWithATextThatIsNotUnicode_IsHandedOverOnceAsAnOtherEventWithItsText_NotAnsweredByTheAppsErrorPage(string body)
    {
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        var handed = new List<HeraldEvent>();
        await using var app = await ReceiverApp.StartAsync(options, (evt, _) =>
        {
            lock (handed)
            {
                handed.Add(evt);
            }
            return Task.CompletedTask;
        });

        for (var send = 0; send < 2; send++)
        {
            using var request = Signed.Request("evt_surrogate", body, DateTimeOffset.UtcNow);
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(request)).StatusCode);
        }

        var other = Assert.IsType<OtherEvent>(Assert.Single(handed));
        Assert.Equal(body, other.Body);
        Assert.Empty(other.Payload);
    }

    [Fact]
    public void AnEscapedTextThatIsUnicode_IsReadAsItsCharacters()
    {
        var evt = Assert.IsType<TransactionEvent>(Parse("""{"internalId":"t\u002d1","status":"\u0043OMPLETED","paymentAmount":130,"customer":{"name":"Jo\u00e3o \ud83d\ude00"}}"""));
        Assert.Equal("t-1", evt.InternalId);
        Assert.Equal("COMPLETED", evt.Status);
        Assert.Equal("João 😀", evt.Transaction.Customer?.Name);
    }
}
