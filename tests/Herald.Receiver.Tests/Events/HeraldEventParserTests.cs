using System.Text;
using Herald.Receiver.Events;

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
}
